import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from '../src/config/parse-env';
import { resolveAgentCommand } from '../src/domain/session-layout';
import { hit, load, resetConnections } from './load';
import { populate } from './populate';

/**
 * `npm run bench:profile`: a CPU profile of the service under one load, summarised as self time
 * per function. PROFILE_N sessions (200), PROFILE_PATH (/sessions?limit=100), PROFILE_C (10),
 * PROFILE_MS (8000), PROFILE_BODY (POST body, optional; `{session}` in the path or body names the first session), PROFILE_LOG (file for the service's debug
 * log, with every tmux call's path and time; optional), PROFILE_NODE_FLAGS (extra node flags, e.g.
 * `--trace-gc`). Evidence for docs/PERFORMANCE.md.
 */
const N = Number(process.env.PROFILE_N ?? 200);
const PATH = process.env.PROFILE_PATH ?? '/sessions?limit=100';
const C = Number(process.env.PROFILE_C ?? 10);
const MS = Number(process.env.PROFILE_MS ?? 8000);
const BODY = process.env.PROFILE_BODY;
const PORT = 8793;
const root = path.join(__dirname, '..');
const tmp = mkdtempSync('/tmp/mp-');
const ws = mkdtempSync('/tmp/mpw-');
const prof = path.join(tmp, 'prof');
writeFileSync(path.join(tmp, 'c'), '');
const env: Record<string, string> = {
  PATH: process.env.PATH!,
  HOME: tmp,
  LC_ALL: 'C.UTF-8',
  MAS_API_PORT: String(PORT),
  MAS_WORKSPACE_ROOT: ws,
  MAS_TMUX_SOCKET: path.join(tmp, 's'),
  MAS_TMUX_CONFIG: path.join(tmp, 'c'),
  MAS_AGENT_COMMAND: '["sh", "-c", "exec cat > /dev/null"]',
  MAS_RATE_LIMIT_MESSAGE: '1000000',
  MAS_RATE_LIMIT_OTHER: '1000000',
  MAS_RATE_LIMIT_RUNS: '1000000',
  ...(process.env.PROFILE_TTL_MS ? { MAS_CACHE_TTL_MS: process.env.PROFILE_TTL_MS } : {}),
};

/** User + system CPU time of a process, from /proc (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

const keyOf = (f: Node['callFrame']) =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*node_modules\//, '~/').replace(/^.*\/dist\//, 'dist/')}:${f.lineNumber + 1}`;

function summarise(file: string): string[] {
  const p = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[] };
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const s of p.samples) {
    const key = keyOf(byId.get(s)!.callFrame);
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  // inclusive time: samples in a function's subtree, counted once per stack even when recursive
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const s of p.samples) {
    const seen = new Set<string>();
    for (let id: number | undefined = s; id !== undefined; id = parent.get(id))
      seen.add(keyOf(byId.get(id)!.callFrame));
    for (const k of seen) incl.set(k, (incl.get(k) ?? 0) + 1);
  }
  const total = p.samples.length;
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  return [
    'self time:',
    ...top(self, 20),
    'inclusive time, service code and Nest/Fastify internals:',
    ...top(new Map([...incl].filter(([k]) => /dist\/|~\//.test(k))), 30),
  ];
}

async function main(): Promise<void> {
  execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
  const cfg = parseEnv(env);
  const ids = await populate(cfg, N, [resolveAgentCommand(cfg), ...cfg.agentCommand.slice(1)]);
  // the path and the body can name the first session
  const at = PATH.replaceAll('{session}', `mas-${ids[0].slice(0, 8)}`);
  const body = BODY?.replaceAll('{session}', `mas-${ids[0].slice(0, 8)}`);
  const log = process.env.PROFILE_LOG ? openSync(process.env.PROFILE_LOG, 'w') : 'ignore';
  const childEnv = { ...env, ...(process.env.PROFILE_LOG ? { MAS_LOG_LEVEL: 'debug' } : {}) };
  const flags = (process.env.PROFILE_NODE_FLAGS ?? '').split(' ').filter(Boolean); // e.g. --trace-gc, into the log
  const child = spawn(
    process.execPath,
    [...flags, '--cpu-prof', '--cpu-prof-dir', prof, path.join(root, 'dist', 'main.js')],
    { env: childEnv, stdio: ['ignore', log, 'inherit'] },
  );
  try {
    for (let i = 0; i < 200 && (await hit(PORT, 'GET', '/health')).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 50));
    resetConnections();
    await load(PORT, body ? 'POST' : 'GET', at, C, 1000, body); // warm-up, not profiled separately
    const cpu0 = cpuMs(child.pid!);
    const r = await load(PORT, body ? 'POST' : 'GET', at, C, MS, body);
    const perReq = (cpuMs(child.pid!) - cpu0) / r.requests;
    const rss =
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
    console.log(`RSS after the load: ${rss.toFixed(0)} MB`);
    console.log(
      `${PATH} c=${C} N=${N}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, errors ${r.errors}, service CPU ${perReq.toFixed(3)} ms/request`,
    );
    resetConnections();
  } finally {
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    execFileSync('tmux', ['-S', path.join(tmp, 's'), 'kill-server'], { stdio: 'ignore' });
  }
  const file = readdirSync(prof).find((f) => f.endsWith('.cpuprofile'));
  if (file) console.log(summarise(path.join(prof, file)).join('\n'));
  rmSync(tmp, { recursive: true, force: true });
  rmSync(ws, { recursive: true, force: true });
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
