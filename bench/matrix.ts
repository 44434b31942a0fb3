import { load, type LoadResult } from './load';

/** The three services of a run: the same build, differing only in cache and tmux binary. */
export const PORTS = { warm: 8790, cold: 8791, counted: 8794 } as const;

export interface Row {
  n: number;
  fork: number;
  bare: LoadResult;
  list: Cells;
  detail: Cells;
  message: {
    warm1: LoadResult;
    warm10: LoadResult;
    cold1: LoadResult;
    cold10: LoadResult;
    spawns: number;
  };
  rss: number;
  pauseMs: number;
}

interface Cells {
  warm1: LoadResult;
  warm10: LoadResult;
  cold1: LoadResult;
  cold10: LoadResult;
  spawns: number;
}

/**
 * What issue 6 asks per endpoint: concurrency 1 and 10, cache warm and cold (`MAS_CACHE_TTL_MS=0`),
 * requests/s, p50/p99, and tmux processes spawned per request (counted by a wrapper binary on a
 * service of its own, so the cold latencies are measured against the real binary).
 */
export async function measureRead(
  path: string,
  phaseMs: number,
  spawns: () => number,
): Promise<Cells> {
  const warm1 = await load(PORTS.warm, 'GET', path, 1, phaseMs);
  const warm10 = await load(PORTS.warm, 'GET', path, 10, phaseMs);
  const s0 = spawns();
  const counting = await load(PORTS.counted, 'GET', path, 1, phaseMs, undefined, 20);
  const perRequest = (spawns() - s0) / counting.requests;
  const cold1 = await load(PORTS.cold, 'GET', path, 1, phaseMs);
  const cold10 = await load(PORTS.cold, 'GET', path, 10, phaseMs);
  return { warm1, warm10, cold1, cold10, spawns: perRequest };
}

/**
 * A 10 KB message to all 13 agents. At concurrency 10, client i writes to session i mod N: one
 * session takes one message at a time (its lock holds through the submit delay, §7.6).
 */
export async function measureMessage(
  sessions: string[],
  phaseMs: number,
  spawns: () => number,
): Promise<Row['message']> {
  const body = (i: number) =>
    JSON.stringify({
      session: sessions[i % sessions.length],
      target: 'all',
      message: 'x'.repeat(10 * 1024),
    });
  const warm1 = await load(PORTS.warm, 'POST', '/message', 1, phaseMs, body, 6);
  const warm10 = await load(PORTS.warm, 'POST', '/message', 10, phaseMs, body, 40);
  const cold1 = await load(PORTS.cold, 'POST', '/message', 1, phaseMs, body, 6);
  const cold10 = await load(PORTS.cold, 'POST', '/message', 10, phaseMs, body, 40);
  const s0 = spawns();
  const counting = await load(PORTS.counted, 'POST', '/message', 1, phaseMs, body, 4);
  return { warm1, warm10, cold1, cold10, spawns: (spawns() - s0) / counting.requests };
}

const f = (x: number) => x.toFixed(1);
const cell = (r: LoadResult) => `${f(r.p50)} / ${f(r.p99)} (${r.rps.toFixed(0)}/s)`;

/** The report's tables, one per endpoint, in milliseconds: p50 / p99 (requests/s). */
export function tables(rows: Row[]): string {
  const errors = (r: Row) =>
    [r.list, r.detail, r.message]
      .flatMap((c) => [c.warm1, c.warm10, c.cold1, c.cold10])
      .reduce((n, x) => n + x.errors, 0);
  const read = (
    title: string,
    pick: (r: Row) => Cells,
    extra: (r: Row) => string = () => '',
  ) => `### ${title}

| N | warm c=1 | warm c=10 | cold c=1 | cold c=10 | tmux spawns per cold request |
|---|---|---|---|---|---|
${rows
  .map((r) => {
    const c = pick(r);
    return `| ${r.n} | ${cell(c.warm1)} | ${cell(c.warm10)}${extra(r)} | ${cell(c.cold1)} (${f(c.cold1.p50 / r.fork)}× fork) | ${cell(c.cold10)} | ${c.spawns.toFixed(2)} |`;
  })
  .join('\n')}`;
  return `### Floors and the run

| N | fork floor: one \`list-panes -a\` | bare Node floor c=10 | service RSS MB | errors | load generator's longest pause |
|---|---|---|---|---|---|
${rows.map((r) => `| ${r.n} | ${f(r.fork)} | ${f(r.bare.p50)} / ${f(r.bare.p99)} (${r.bare.rps.toFixed(0)}/s) | ${r.rss.toFixed(0)} | ${errors(r)} | ${r.pauseMs.toFixed(0)} |`).join('\n')}

${read(
  '`GET /sessions?limit=100`',
  (r) => r.list,
  (r) => ` ${f((100 * r.list.warm10.rps) / r.bare.rps)} % of floor`,
)}

${read('`GET /sessions/:id`', (r) => r.detail)}

### \`POST /message\`, 10 KB to 13 agents (includes the submit delay)

| N | warm c=1 | warm c=10 (client i → session i mod N) | cold c=1 | cold c=10 | tmux spawns per message, cold |
|---|---|---|---|---|---|
${rows.map((r) => `| ${r.n} | ${cell(r.message.warm1)} | ${cell(r.message.warm10)} | ${cell(r.message.cold1)} | ${cell(r.message.cold10)} | ${r.message.spawns.toFixed(2)} |`).join('\n')}`;
}
