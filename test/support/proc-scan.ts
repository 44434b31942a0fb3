import { readdir, readFile } from 'node:fs/promises';

/** Pids whose `/proc/<pid>/cmdline` (what `ps` shows anyone) contains `needle`. Vanished pids are skipped. */
export async function pidsWithArgv(needle: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((d) => /^\d+$/.test(d));
  const hits: number[] = [];
  await Promise.all(
    pids.map(async (p) => {
      const argv = await readFile(`/proc/${p}/cmdline`).catch(() => Buffer.alloc(0));
      if (argv.includes(needle)) hits.push(Number(p));
    }),
  );
  return hits;
}

/** Keeps scanning until stopped; resolves with every pid ever seen holding `needle` in its argv. */
export function watchArgv(needle: string): { stop(): Promise<number[]> } {
  const seen = new Set<number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const p of await pidsWithArgv(needle)) seen.add(p);
      await new Promise((r) => setTimeout(r, 5)); // leave the service in this process room to work
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return [...seen];
    },
  };
}

/** `KEY=value` entries of a process's environment (owner-readable only, unlike cmdline). */
export async function environOf(pid: number): Promise<string[]> {
  return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0').filter(Boolean);
}
