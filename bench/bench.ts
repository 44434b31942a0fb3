import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { treeTemplate } from '../src/tmux/tmux-format';
import { parseEnv } from '../src/config/parse-env';
import { resolveAgentCommand } from '../src/domain/session-layout';
import { hit, load, resetConnections, type LoadResult } from './load';
import { measureMessage, measureRead, type Row, tables } from './matrix';
import { populate } from './populate';
import { runR15 } from './r15';

const SIZES = (process.env.BENCH_SIZES ?? '1,10,50,200').split(',').map(Number);
const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 2000);
const SUBMIT_DELAY_MS = 300;
const root = path.join(__dirname, '..');
const tmp = mkdtempSync('/tmp/mb-');
const socket = path.join(tmp, 's');
const conf = path.join(tmp, 'empty.conf');
const ws = mkdtempSync('/tmp/mbw-');
const counter = path.join(tmp, 'count');
writeFileSync(conf, '');
writeFileSync(counter, '');
// Counts every tmux client the cold service forks (one line per spawn), then runs the real tmux.
const wrapper = path.join(tmp, 'tmux-counting');
writeFileSync(wrapper, `#!/bin/sh\necho x >> ${counter}\nexec tmux "$@"\n`);
chmodSync(wrapper, 0o755);

const tmux = (...a: string[]) =>
  execFileSync('tmux', ['-u', '-S', socket, '-f', conf, ...a], {
    env: { PATH: process.env.PATH!, LC_ALL: 'C.UTF-8', HOME: tmp },
  }).toString();
const spawns = () => readFileSync(counter, 'utf8').length / 2;

const baseEnv: Record<string, string> = {
  PATH: process.env.PATH!,
  HOME: tmp,
  LC_ALL: 'C.UTF-8',
  MAS_WORKSPACE_ROOT: ws,
  MAS_TMUX_SOCKET: socket,
  MAS_TMUX_CONFIG: conf,
  // agents must read their input, as real ones do: a pane whose pty nobody reads backs up every paste
  MAS_AGENT_COMMAND: '["sh", "-c", "exec cat > /dev/null"]',
  MAS_PROMPT_DELAY_MS: '200',
  MAS_AGENT_LAUNCH_CHECK_MS: '200',
  MAS_SUBMIT_DELAY_MS: String(SUBMIT_DELAY_MS),
  MAS_RATE_LIMIT_RUNS: '1000000',
  MAS_RATE_LIMIT_MESSAGE: '1000000',
  MAS_RATE_LIMIT_OTHER: '1000000',
};

/** BENCH_LOG=<dir> keeps each service's debug log there (every tmux call and its time), to explain a stall. */
function startService(port: number, extra: Record<string, string>): ChildProcess {
  const logDir = process.env.BENCH_LOG;
  const env = {
    ...baseEnv,
    MAS_API_PORT: String(port),
    ...(logDir ? { MAS_LOG_LEVEL: 'debug' } : {}),
    ...extra,
  };
  const out = logDir ? openSync(path.join(logDir, `service-${port}.log`), 'w') : 'ignore';
  const prof = logDir && port === 8790 ? ['--cpu-prof', '--cpu-prof-dir', logDir] : []; // the warm service, for a stall
  return spawn(process.execPath, [...prof, path.join(root, 'dist', 'main.js')], {
    env,
    stdio: ['ignore', out, 'inherit'],
  });
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await hit(port, 'GET', '/health')).status === 200) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`service on ${port} did not start`);
}

/** Floor 1: a bare Node http server answering the same body. */
async function bareFloor(body: string): Promise<LoadResult> {
  const server = http.createServer((_q, s) =>
    s.writeHead(200, { 'content-type': 'application/json' }).end(body),
  );
  await new Promise<void>((r) => server.listen(8799, '127.0.0.1', r));
  const res = await load(8799, 'GET', '/', 10, PHASE_MS);
  await new Promise((r) => server.close(r));
  return res;
}

/** Floor 2: one forked `tmux list-panes -a -F …`, median of 15. */
function forkFloor(): number {
  const xs: number[] = [];
  for (let i = 0; i < 15; i++) {
    const t0 = process.hrtime.bigint();
    tmux('list-panes', '-a', '-F', treeTemplate('0123456789ab'));
    xs.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return xs.sort((a, b) => a - b)[7];
}

const team = JSON.stringify({
  agents: {
    metaManager: { id: '00', prompt: 'p' },
    units: [1, 2, 3].map((u) => ({
      unitId: u,
      manager: { id: `${u}0`, prompt: 'p' },
      workers: [1, 2, 3].map((x) => ({ id: `${u}${x}`, prompt: 'p' })),
    })),
  },
});

async function main(): Promise<void> {
  console.log('building…');
  execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
  tmux('new-session', '-d', '-s', 'bench-keepalive', 'sleep 100000');
  const warm = startService(8790, {});
  const cold = startService(8791, { MAS_CACHE_TTL_MS: '0' });
  // counting goes through a wrapper script, which adds an `sh` fork: a separate service, so the
  // cold latencies above are measured against the real binary
  const counted = startService(8794, { MAS_CACHE_TTL_MS: '0', MAS_TMUX_BIN: wrapper });
  const rows: Row[] = [];
  const targets: string[] = [];
  const runsLat: number[] = [];
  const coldRatios: [number, number][] = [];
  const beyondDelay: [number, number][] = [];
  const ids: string[] = [];
  try {
    await Promise.all([waitUp(8790), waitUp(8791), waitUp(8794)]);
    for (const n of SIZES) {
      const cfg = parseEnv(baseEnv);
      ids.push(
        ...(await populate(cfg, n - ids.length, [
          resolveAgentCommand(cfg),
          ...cfg.agentCommand.slice(1),
        ])),
      );
      resetConnections();
      const body = (await hit(8790, 'GET', `/sessions?limit=100`)).text;
      const bare = await bareFloor(body);
      const fork = forkFloor(); // synchronous forks: before the pause monitor starts
      // The load generator's own longest pause: a stall it sees too (VM steal, GC here) is not the service's.
      const pause = monitorEventLoopDelay({ resolution: 10 });
      pause.enable();
      const list = await measureRead('/sessions?limit=100', PHASE_MS, spawns);
      coldRatios.push([n, list.cold1.p50 / fork]);
      const detail = await measureRead(`/sessions/${ids[0]}`, PHASE_MS, spawns);
      const message = await measureMessage(
        ids.map((id) => `mas-${id.slice(0, 8)}`),
        PHASE_MS,
        spawns,
      );
      beyondDelay.push([n, message.warm1.p50 - SUBMIT_DELAY_MS]);
      const rss =
        Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${warm.pid}/status`, 'utf8'))![1]) / 1024;
      pause.disable();
      const f = (x: number) => x.toFixed(1);
      rows.push({ n, fork, bare, list, detail, message, rss, pauseMs: pause.max / 1e6 });
      console.log(
        `N=${n}: list warm c=10 ${f(list.warm10.p50)}/${f(list.warm10.p99)} ms, cold c=1 ${f(list.cold1.p50)} ms (one fork ${f(fork)} ms), message ${f(message.warm1.p50)} ms, RSS ${rss.toFixed(0)} MB`,
      );
      const w10 = list.warm10;
      const perReq = list.spawns;
      if (n === Math.max(...SIZES)) {
        for (let i = 0; i < 10; i++) {
          const r = await hit(8790, 'POST', '/runs', team);
          if (r.status !== 201) throw new Error(`/runs answered ${r.status}: ${r.text}`);
          runsLat.push(r.ms);
        }
        const mark = (ok: boolean) => (ok ? 'met' : '**not met**');
        const runs = [...runsLat].sort((a, b) => a - b);
        const p95 = runs[Math.floor(runs.length * 0.95)];
        targets.push(
          `- warm \`GET /sessions\` at N=${n}, c=10: p99 ${f(w10.p99)} ms ≤ 10 ms (the bare-Node floor's own p99: ${f(bare.p99)} ms) — ${mark(w10.p99 <= 10)}`,
          `- warm throughput ≥ 50 % of the bare-Node floor: ${f((100 * w10.rps) / bare.rps)} % — ${mark(w10.rps >= bare.rps / 2)}`,
          `- cold: one tmux process per listing: ${perReq.toFixed(2)} — ${mark(perReq <= 1.05)}`,
          `- cold latency within 1.5× of one forked list-panes, at every N: ${coldRatios.map(([k, r]) => `N=${k} ${f(r)}×`).join(', ')} — ${mark(coldRatios.every(([, r]) => r <= 1.5))}`,
          `- \`POST /runs\` synchronous phase, 13 agents, 10 creates at N=${n}: p50 ${f(runs[Math.floor(runs.length / 2)])} ms, p95 ${f(p95)} ms ≤ 500 ms — ${mark(p95 <= 500)}`,
          `- 10 KB message to 13 agents, p50 beyond the ${SUBMIT_DELAY_MS} ms submit delay ≤ 100 ms, at every N: ${beyondDelay.map(([k, ms]) => `N=${k} ${f(ms)} ms`).join(', ')} — ${mark(beyondDelay.every(([, ms]) => ms <= 100))}`,
          `- RSS at N=${n} under load: ${rss.toFixed(0)} MB ≤ 150 MB — ${mark(rss <= 150)}`,
        );
      }
    }
  } finally {
    for (const c of [warm, cold, counted]) c.kill('SIGTERM');
    // kill-server has failed under load before and left 3,000 panes behind: make sure
    const pid = (() => {
      try {
        return Number(tmux('display-message', '-p', '#{pid}'));
      } catch {
        return 0;
      }
    })();
    try {
      tmux('kill-server');
    } catch {
      /* gone, or killed below */
    }
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(tmp, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  }
  const tmuxV = execFileSync('tmux', ['-V']).toString().trim();
  const doc = `# Performance

Written by \`npm run bench\` (bench/bench.ts) on ${new Date().toISOString()}. Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${tmuxV}.
The service runs as a separate process (\`node dist/main.js\`) against a private tmux server holding N sessions built with the
service's own layout plan, tmux argv and workspace writer (bench/populate.ts)
(15 panes each: 13 agents running \`cat > /dev/null\`, plus the shell and monitor windows). Load comes from a closed loop in the bench process over
keep-alive connections, ${PHASE_MS} ms per phase. Times are milliseconds (p50 / p99); floors were measured in the same run.

${tables(rows)}

## Targets (issue 6)

${targets.join('\n')}

"Warm" is the default 2 s snapshot cache; "cold" is \`MAS_CACHE_TTL_MS=0\`, where every listing forks tmux once. Spawns are counted through a wrapper
script run by a separate service; the cold latencies come from a service running tmux directly. Message figures include the configured submit
delay (${SUBMIT_DELAY_MS} ms). The load generator's longest pause is its own event-loop stall during the row: a stall it sees as well (VM steal
time, its own GC) was not the service's.
`;
  // Everything after the marker is written by people (profiles, analysis) and survives a re-run.
  const file = path.join(root, 'docs', 'PERFORMANCE.md');
  const marker = '<!-- bench:end -->';
  const previous = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kept = previous.includes(marker)
    ? previous.slice(previous.indexOf(marker) + marker.length)
    : '\n';
  writeFileSync(file, `${doc}\n${marker}${kept}`);
  console.log(doc);
  // R15 (§10.6) on a server of its own, after the matrix's are gone; BENCH_R15=0 skips it
  if (process.env.BENCH_R15 !== '0') await runR15();
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
