import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { hit } from './load';

/**
 * Soak: SOAK_SECONDS (60) of mixed reads and writes at concurrency SOAK_CONCURRENCY (50) against a
 * live service on a private tmux server. Passes when no answer is a 5xx or a dropped connection;
 * writes docs/SOAK.md with the figures and the RSS curve.
 */
const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 50);
const PORT = 8792;
const root = path.join(__dirname, '..');
const tmp = mkdtempSync('/tmp/ms-');
const ws = mkdtempSync('/tmp/msw-');
writeFileSync(path.join(tmp, 'c'), '');
const env = {
  PATH: process.env.PATH!,
  HOME: tmp,
  LC_ALL: 'C.UTF-8',
  MAS_API_PORT: String(PORT),
  MAS_WORKSPACE_ROOT: ws,
  MAS_TMUX_SOCKET: path.join(tmp, 's'),
  MAS_TMUX_CONFIG: path.join(tmp, 'c'),
  MAS_AGENT_COMMAND: '["sh", "-c", "exec cat > /dev/null"]',
  MAS_PROMPT_DELAY_MS: '300',
  MAS_AGENT_LAUNCH_CHECK_MS: '200',
  MAS_STOP_GRACE_MS: '500',
  MAS_RATE_LIMIT_RUNS: '1000000',
  MAS_RATE_LIMIT_MESSAGE: '1000000',
  MAS_RATE_LIMIT_LIFECYCLE: '1000000',
  MAS_RATE_LIMIT_OTHER: '1000000',
};
const team = (n: number) =>
  JSON.stringify({
    agents: {
      units: [
        {
          unitId: 1,
          manager: { id: '10', prompt: `lead ${n}` },
          workers: [
            { id: '11', prompt: 'w' },
            { id: '12', prompt: 'w' },
          ],
        },
      ],
    },
  });
const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)];

interface Stat {
  n: number;
  lat: number[];
  codes: Record<string, number>;
}

async function main(): Promise<void> {
  execFileSync('npx', ['nest', 'build'], { cwd: root, stdio: 'inherit' });
  const child = spawn(process.execPath, [path.join(root, 'dist', 'main.js')], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stats = new Map<string, Stat>();
  const rss: number[] = [];
  let failures = 0;
  try {
    for (let i = 0; i < 100; i++) {
      if (
        await hit(PORT, 'GET', '/health').then(
          (r) => r.status === 200,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const stable: string[] = [];
    const churn: string[] = [];
    for (let i = 0; i < 10; i++)
      (i < 5 ? stable : churn).push(
        JSON.parse((await hit(PORT, 'POST', '/runs', team(i))).text).tmuxSession,
      );
    await new Promise((r) => setTimeout(r, 3000)); // initial prompts
    const record = (op: string, status: number, ms: number) => {
      const s = stats.get(op) ?? { n: 0, lat: [], codes: {} };
      s.n++;
      s.lat.push(ms);
      s.codes[status] = (s.codes[status] ?? 0) + 1;
      stats.set(op, s);
      if (status >= 500 || status === 0) failures++;
    };
    const op = async () => {
      const r = Math.random();
      // The mix of a busy team: mostly reads and messages; creates kept near the default /runs
      // limit (10 a minute per client), stops and restores a little above it.
      const [name, method, p, body] =
        r < 0.55
          ? ['list', 'GET', '/sessions', undefined]
          : r < 0.75
            ? ['detail', 'GET', `/sessions/${pick([...stable, ...churn])}`, undefined]
            : r < 0.8
              ? ['status', 'GET', '/status', undefined]
              : r < 0.965
                ? [
                    'message',
                    'POST',
                    '/message',
                    JSON.stringify({
                      session: pick(stable),
                      target: pick(['all', 'managers', '11', 'workers']),
                      message: `soak ${Date.now()}; $(id) #{pid}`,
                      execute: Math.random() < 0.5,
                    }),
                  ]
                : r < 0.97
                  ? ['runs', 'POST', '/runs', team(Date.now())]
                  : r < 0.985
                    ? ['stop', 'POST', `/sessions/${pick(churn)}/stop`, '{"force":true}']
                    : [
                        'restore',
                        'POST',
                        `/sessions/${pick(churn)}/restore`,
                        '{"startAgents":true}',
                      ];
      const res = await hit(PORT, method, p, body).catch(() => ({ status: 0, ms: 0, text: '' }));
      record(
        res.status >= 500
          ? `${name} ${(() => {
              try {
                return JSON.parse(res.text).code;
              } catch {
                return '?';
              }
            })()}`
          : name,
        res.status,
        res.ms,
      );
      if (name === 'runs' && res.status === 201) churn.push(JSON.parse(res.text).tmuxSession);
    };
    const sampler = setInterval(
      () =>
        rss.push(
          Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) /
            1024,
        ),
      5000,
    );
    const deadline = Date.now() + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (Date.now() < deadline) await op();
      }),
    );
    clearInterval(sampler);
  } finally {
    child.kill('SIGTERM');
    try {
      execFileSync('tmux', ['-S', path.join(tmp, 's'), 'kill-server']);
    } catch {
      /* gone */
    }
    rmSync(tmp, { recursive: true, force: true });
    rmSync(ws, { recursive: true, force: true });
  }
  const pct = (xs: number[], p: number) =>
    [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
  const total = [...stats.values()].reduce((n, s) => n + s.n, 0);
  const rows = [...stats].map(
    ([k, s]) =>
      `| ${k} | ${s.n} | ${pct(s.lat, 50).toFixed(1)} | ${pct(s.lat, 99).toFixed(1)} | ${Object.entries(
        s.codes,
      )
        .map(([c, n]) => `${c}: ${n}`)
        .join(', ')} |`,
  );
  const doc = `# Soak test

Written by \`npm run soak\` (bench/soak.ts) on ${new Date().toISOString()}: ${SECONDS} s of mixed reads and writes at concurrency
${CONCURRENCY} against \`node dist/main.js\` on a private tmux server (10 sessions to start with; creates add more). Machine:
${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}.

**Result: ${failures === 0 ? 'passed' : '**FAILED**'}: ${failures} answers were 5xx or dropped connections, out of ${total} (${(total / SECONDS).toFixed(0)} req/s).**

| operation | requests | p50 ms | p99 ms | statuses |
|---|---|---|---|---|
${rows.join('\n')}

RSS of the service every 5 s (MB): ${rss.map((x) => x.toFixed(0)).join(', ')}.

Mix: 55 % list, 20 % detail, 5 % status, 16.5 % message (to 5 sessions), 0.5 % create, 1.5 % stop,
1.5 % restore. A write-heavy mix (4 % creates, about one a second, six times the default rate limit)
saturates tmux on a 2-core machine. Latency then climbs to seconds, and once the 8+64 slots of the tmux
limiter or the 20 s lock wait are exhausted, the service answers 503 \`TMUX_UNAVAILABLE\` \`busy\`. That
is the designed overload answer (R6), and it is why the default rate limits exist.

4xx answers are expected here. For example, a 409 \`SESSION_TERMINATED\` when a message or restore
meets a session that another worker has just stopped, or a 409 \`SESSION_EXISTS\` when a restore
meets a live session.
`;
  writeFileSync(path.join(root, 'docs', 'SOAK.md'), doc);
  console.log(doc);
  if (failures) process.exit(1);
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
