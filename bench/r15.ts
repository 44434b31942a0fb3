import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import { createInterface } from 'node:readline';
import { hit, load, resetConnections } from './load';
import { loadAvg, machine, rssMb, sample, share } from './r15-proc';
import { type Phase, type Tick, writeSection } from './r15-report';
import { createTeam, loopLag, R15World } from './r15-setup';

/**
 * R15 of contract §10.6 (`npm run bench:r15`, and the last part of `npm run bench`): N live
 * sessions of 13 agents, first silent, then each agent printing ~1 KB/s. Knobs: BENCH_R15_SESSIONS
 * (50), BENCH_R15_SECONDS (20: the quiet and the live measuring window), BENCH_R15_PHASE_MS (4000:
 * each list and detail load).
 */
const SESSIONS = Number(process.env.BENCH_R15_SESSIONS ?? 50);
const SECONDS = Number(process.env.BENCH_R15_SECONDS ?? 20);
const PHASE_MS = Number(process.env.BENCH_R15_PHASE_MS ?? 4000);
const PORT = 8795;
/** A bare Node server: how much of a slowdown is the machine's, not the service's. */
const FLOOR_PORT = 8797;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The SSE watcher (r15-client.ts) as a child process; its once-a-second reports go to `sink`. */
function watch(): {
  pid: number;
  sink: Tick[] | undefined;
  ready: Promise<void>;
  close: () => void;
} {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'r15-client.ts'), String(PORT)],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const w = {
    pid: child.pid!,
    sink: undefined as Tick[] | undefined,
    ready: Promise.resolve(),
    close: () => {},
  };
  w.ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: Tick & { connected?: true; error?: string };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        return; // a report cut short when the client was told to go
      }
      if (m.connected) resolve();
      else if (m.error) reject(new Error(`SSE client: ${m.error}`));
      else w.sink?.push(m);
    });
  });
  w.close = () => child.stdin!.end();
  return w;
}

async function measure(
  world: R15World,
  w: ReturnType<typeof watch>,
  detailPath: string,
): Promise<Phase> {
  const svc = world.service!.pid!;
  const tmuxPid = world.tmuxPid();
  const rss0 = rssMb(svc);
  let rss = rss0;
  const rssTimer = setInterval(() => (rss = Math.max(rss, rssMb(svc))), 500);
  const ticks: Tick[] = (w.sink = []);
  await loopLag(PORT); // resets the service's histogram: the next reading covers the window
  const [a, ta, ca, ma] = [sample(svc), sample(tmuxPid), sample(w.pid), machine()];
  await sleep(SECONDS * 1000);
  const [b, tb, cb, mb] = [sample(svc), sample(tmuxPid), sample(w.pid), machine()];
  const lag = await loopLag(PORT);
  w.sink = undefined;
  const load1 = loadAvg();
  resetConnections();
  const list = await load(PORT, 'GET', '/sessions?limit=100', 1, PHASE_MS);
  const detail = await load(PORT, 'GET', detailPath, 1, PHASE_MS);
  const floor = await load(FLOOR_PORT, 'GET', '/', 1, PHASE_MS);
  clearInterval(rssTimer);
  const tmux = share(ta, tb);
  return {
    seconds: (b.at - a.at) / 1000,
    service: share(a, b),
    tmux: tmux.self,
    agents: tmux.withChildren - tmux.self,
    client: share(ca, cb).self,
    machine: (100 * (mb.busy - ma.busy)) / (mb.total - ma.total),
    load: load1,
    lag,
    ticks,
    list,
    detail,
    floor,
    rss0,
    rss: Math.max(rss, rssMb(svc)),
  };
}

/** Runs R15 against `dist/` (already built) and writes its section of docs/PERFORMANCE.md. */
export async function runR15(): Promise<void> {
  const world = new R15World(PORT);
  let w: ReturnType<typeof watch> | undefined;
  const bare = http.createServer((_q, s) => s.end('{}'));
  await new Promise<void>((r) => bare.listen(FLOOR_PORT, '127.0.0.1', r));
  try {
    await world.start();
    const ids: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < SESSIONS; i++) {
      const id = await createTeam(PORT);
      if (id) ids.push(id);
    }
    // what is live, not what was asked: a create that timed out may have made its session or not
    const listed = await hit(PORT, 'GET', '/sessions?limit=1');
    const sessions = (JSON.parse(listed.text) as { total: number }).total;
    console.log(`R15: ${sessions} sessions live after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    if (!ids.length) throw new Error('R15: no session could be created');
    w = watch();
    await w.ready;
    await sleep(3000); // the startup jobs' prompts and the first listings settle
    const detailPath = `/sessions/${ids[0]}`;
    const quiet = await measure(world, w, detailPath);
    console.log(`R15 quiet: service ${quiet.service.withChildren.toFixed(1)} % of a core`);
    writeFileSync(world.flag, '');
    const liveFrom = Date.now();
    await sleep(3000);
    const live = await measure(world, w, detailPath);
    const tail = await hit(PORT, 'GET', `/sessions/${ids[0]}/agents/00/output?limit=1`);
    rmSync(world.flag);
    if (tail.status !== 200)
      console.warn(`R15: transcript read answered ${tail.status}: ${tail.text}`);
    const end = tail.status === 200 ? (JSON.parse(tail.text) as { end: number }).end : NaN;
    const transcriptRate = end / ((Date.now() - liveFrom) / 1000);
    writeSection({ sessions, quiet, live, transcriptRate });
  } finally {
    w?.close();
    bare.close();
    world.stop();
  }
}

if (require.main === module) {
  console.log('building…');
  execFileSync('npx', ['nest', 'build'], { cwd: path.join(__dirname, '..'), stdio: 'inherit' });
  runR15().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
