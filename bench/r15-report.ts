import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LoadResult } from './load';
import type { CpuShare } from './r15-proc';

/** One second of the SSE watcher's report (r15-client.ts). */
export interface Tick {
  at: number;
  lat: number[];
  events: number;
  bytes: number;
  gaps: number;
  breaks: number;
}

/** One measuring window (no request load) and the list and detail loads after it. */
export interface Phase {
  seconds: number;
  service: CpuShare;
  tmux: number;
  agents: number;
  client: number;
  machine: number;
  load: string;
  /** The service's event-loop delay over the window, p99 / max. */
  lag: string;
  ticks: Tick[];
  list: LoadResult;
  detail: LoadResult;
  floor: LoadResult;
  /** At the window's start, and the most seen until the loads ended. */
  rss0: number;
  rss: number;
}

const f = (x: number) => x.toFixed(1);
const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;
const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
const sum = (t: Tick[], k: 'events' | 'bytes' | 'gaps' | 'breaks') =>
  t.reduce((n, x) => n + x[k], 0);

/** The R15 section: a table of both windows and every target marked met or not. */
export function section(r: {
  sessions: number;
  quiet: Phase;
  live: Phase;
  transcriptRate: number;
}): string {
  const { quiet: q, live: l } = r;
  const lat = l.ticks.flatMap((t) => t.lat).sort((a, b) => a - b);
  const agents = r.sessions * 13;
  const rate = sum(l.ticks, 'bytes') / l.ticks.length / agents;
  const events = sum(l.ticks, 'events') / l.ticks.length;
  const capture = l.service.withChildren - q.service.withChildren;
  const ratio = (a: LoadResult, b: LoadResult, k: 'p50' | 'p99') => a[k] / b[k];
  const within = (name: string, a: LoadResult, b: LoadResult) =>
    (['p50', 'p99'] as const)
      .map(
        (k) =>
          `${name} ${k} ${f(b[k])} → ${f(a[k])} ms (${f(100 * (ratio(a, b, k) - 1))} %) — ${mark(ratio(a, b, k) <= 1.2)}`,
      )
      .join('; ');
  const row = (name: string, g: (p: Phase) => string) => `| ${name} | ${g(q)} | ${g(l)} |`;
  const cell = (x: LoadResult) => `${f(x.p50)} / ${f(x.p99)} (${x.rps.toFixed(0)}/s)`;
  const p99 = pct(lat, 99);
  // every core busy: shares measure what the scheduler handed out, latencies include the queue for a core
  const saturated = l.machine >= 95;
  return `## R15: live output

Written by \`npm run bench:r15\` (bench/r15.ts; also the last part of \`npm run bench\`) on ${new Date().toISOString()}.
Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, shared with other work; load averages (1, 5, 15 min) at the end of each window below.
${r.sessions} sessions created by \`POST /runs\` (capture attached at create), 13 agents each (${agents}), every agent a bash loop
that prints one 100-byte line starting \`T=<epoch ms>\` about every 100 ms while a flag file exists. One SSE client
(its own process) follows \`GET /events?types=output\`. Each column: ${f(q.seconds)} s / ${f(l.seconds)} s without request load
(CPU shares, latency of output), then ${'`GET /sessions?limit=100`'} and \`GET /sessions/:id\` at concurrency 1 (ms, p50 / p99).
CPU is % of one core from \`/proc/<pid>/stat\`; "with its children" adds the tmux control-mode clients the service runs.

| | agents silent | agents printing |
|---|---|---|
${[
  row(
    'output received by the client, per agent',
    (p) => `${f(sum(p.ticks, 'bytes') / p.ticks.length / agents)} B/s`,
  ),
  row('`output` events per second (all agents)', (p) => f(sum(p.ticks, 'events') / p.ticks.length)),
  row('output latency, write → event (p50 / p99 / max)', (p) => {
    const xs = p.ticks.flatMap((t) => t.lat).sort((a, b) => a - b);
    return xs.length
      ? `${f(pct(xs, 50))} / ${f(pct(xs, 99))} / ${f(xs[xs.length - 1])} ms (${xs.length} lines)`
      : 'no output';
  }),
  row(
    '`gap` events / breaks in `from`=`next`',
    (p) => `${sum(p.ticks, 'gaps')} / ${sum(p.ticks, 'breaks')}`,
  ),
  row('service CPU (Node process alone)', (p) => `${f(p.service.self)} %`),
  row('service CPU with its children', (p) => `${f(p.service.withChildren)} %`),
  row(
    "service's event-loop delay (prom-client `nodejs_eventloop_lag`, ~10 ms when idle), p99 / max",
    (p) => p.lag,
  ),
  row('tmux server CPU (information)', (p) => `${f(p.tmux)} %`),
  row('agent processes CPU (information)', (p) => `${f(p.agents)} %`),
  row('SSE client CPU (information)', (p) => `${f(p.client)} %`),
  row('whole machine busy, % of all cores', (p) => `${f(p.machine)} %`),
  row('load average', (p) => p.load),
  row('`GET /sessions?limit=100`', (p) => cell(p.list)),
  row('`GET /sessions/:id`', (p) => cell(p.detail)),
  row('bare Node server, same machine (floor)', (p) => cell(p.floor)),
  row('service RSS MB, at the start → max', (p) => `${f(p.rss0)} → ${f(p.rss)}`),
].join('\n')}

Transcript of session 1's agent 00 over the printing period: ${Number.isNaN(r.transcriptRate) ? 'not read (the read failed)' : `${f(r.transcriptRate)} B/s`} (a check that capture ran; the terminal
turns each \`\\n\` into \`\\r\\n\`, so 101 B a line).

### Targets (R15, contract §10.6)

- a pane write reaches an \`output\` event, p99 ≤ 100 ms: ${lat.length ? `p50 ${f(pct(lat, 50))} ms, p99 ${f(p99)} ms over ${lat.length} lines, ${f(rate)} B/s per agent, ${f(events)} events/s — ${mark(p99 <= 100)}` : '**not measured**: no `output` event arrived (a service without §10.3 output events)'}
- the service's CPU for capture and events ≤ 25 % of one core: ${f(capture)} % (printing minus silent, with its children; ${f(l.service.withChildren)} % in all while printing, the Node process alone ${f(l.service.self)} %) — ${saturated ? `**not determined**: the machine was ${f(l.machine)} % busy, so the service got only the CPU the scheduler left it (its event loop lagged ${l.lag}); a low share here is starvation, not economy` : mark(capture <= 25)}
- list and detail latency within 20 % of the run without output: ${within('list', l.list, q.list)}; ${within('detail', l.detail, q.detail)}
- RSS ≤ 150 MB: ${f(l.rss)} MB at most while printing — ${mark(l.rss <= 150)}
${saturated ? `\n**The machine was saturated while the agents printed** (${f(l.machine)} % of all cores busy, load average ${l.load}): the latencies above include waiting for a core, behind the agents and tmux, not only the service's work.\n` : ''}`;
}

const BEGIN = '<!-- r15:begin -->';
const END = '<!-- r15:end -->';

/**
 * Replaces the R15 block of docs/PERFORMANCE.md, or puts it right after bench.ts's generated part
 * (whose marker keeps everything after it across a matrix run).
 */
export function writeSection(r: Parameters<typeof section>[0]): void {
  const file = path.join(__dirname, '..', 'docs', 'PERFORMANCE.md');
  const doc = existsSync(file) ? readFileSync(file, 'utf8') : '<!-- bench:end -->\n';
  const block = `${BEGIN}\n${section(r)}${END}`;
  const next = doc.includes(BEGIN)
    ? doc.slice(0, doc.indexOf(BEGIN)) + block + doc.slice(doc.indexOf(END) + END.length)
    : doc.replace('<!-- bench:end -->', `<!-- bench:end -->\n\n${block}`);
  writeFileSync(file, next);
  console.log(section(r));
}
