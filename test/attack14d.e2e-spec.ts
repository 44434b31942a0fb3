import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { scrubbedEnv } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const ROOT = path.join(__dirname, '..');

/** A free loopback port, picked by the kernel and released for the child to take. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(argv[0], argv.slice(1), { env: scrubbedEnv() }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** `argv` as PID 1 of a new pid namespace with its own /proc; SIGKILLed (namespace and all) when `unshare` ends. */
function inPidNamespace(argv: string[], env: Record<string, string>, cwd = ROOT): ChildProcess {
  return spawn('unshare', ['--pid', '--fork', '--kill-child', '--mount-proc', ...argv], {
    cwd,
    env: scrubbedEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function stopChild(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await gone;
}

const json = async (url: string, init?: RequestInit) => {
  const r = await fetch(url, init);
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
const post = (url: string, body: unknown) =>
  json(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('A14d: deployment B — the service in its own pid namespace drives a tmux server outside it (e2e, §10.2, docs/deploy.md B)', () => {
  let dir: string;
  let host: ChildProcess | undefined;
  let svc: ChildProcess | undefined;
  let svcOut = '';
  let base = '';
  const decoyDir = () => path.join(dir, 'decoy');
  const socket = () => path.join(dir, 's');
  const config = () => path.join(dir, 'empty.conf');

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/a14d-'));
    mkdirSync(path.join(dir, 'ws'));
    mkdirSync(decoyDir());
    writeFileSync(config(), '');
    writeFileSync(
      path.join(dir, 'agent'),
      '#!/bin/sh\nprintf \'hello %s\\n\' "$MAS_AGENT_ID"\nexec sleep 100000\n',
      { mode: 0o755 },
    );
    // "The host": PID 1 of its own pid namespace is a process of the same user with files open on
    // fds 3-199 (any long-lived process of alice's: an editor, a database, her own shell), and the
    // tmux server runs there, started before the service as docs/deploy.md B requires.
    const opens = Array.from({ length: 197 }, (_, i) => `${i + 3}>>f${i + 3}`).join(' ');
    host = inPidNamespace(
      [
        'bash',
        '-c',
        `cd ${decoyDir()} && for i in $(seq 3 199); do echo DECOY > f$i; done && exec ${opens} && ` +
          `tmux -u -S ${socket()} -f ${config()} new-session -d -s host 'exec sleep 100000' && exec sleep 100000`,
      ],
      {},
      dir,
    );
    await waitFor(
      async () => (await run(['tmux', '-S', socket(), 'has-session', '-t', '=host'])).code === 0,
      10000,
    );
    // The service: the container of docs/deploy.md B (own pid namespace, same files and socket path)
    const port = await freePort();
    svc = inPidNamespace(
      [process.execPath, '-r', 'ts-node/register/transpile-only', 'src/main.ts'],
      {
        MAS_API_PORT: String(port),
        MAS_API_HOST: '127.0.0.1',
        MAS_WORKSPACE_ROOT: path.join(dir, 'ws'),
        MAS_TMUX_SOCKET: socket(),
        MAS_TMUX_CONFIG: config(),
        MAS_AGENT_COMMAND: path.join(dir, 'agent'),
        MAS_AGENT_PROCESS_NAMES: 'sleep',
        MAS_AGENT_LAUNCH_CHECK_MS: '200',
        MAS_PROMPT_DELAY_MS: '60000',
      },
    );
    svc.stdout!.on('data', (d: Buffer) => (svcOut += d.toString()));
    svc.stderr!.on('data', (d: Buffer) => (svcOut += d.toString()));
    base = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${base}/health`)).ok, 60000, 200);
  }, 90000);

  afterAll(async () => {
    await run(['tmux', '-S', socket(), 'kill-server']);
    await stopChild(svc);
    await stopChild(host);
    rmSync(dir, { recursive: true, force: true });
  });

  it("A14d-1: agents of a service in another pid namespace than the tmux server (deployment B) reach their transcripts, and no `tee` writes into another process's files", async () => {
    const team = {
      agents: {
        metaManager: { id: '00', prompt: 'p' },
        units: [
          { unitId: 1, manager: { id: '10', prompt: 'p' }, workers: [{ id: '11', prompt: 'p' }] },
        ],
      },
    };
    const created = await post(`${base}/runs`, team);
    expect(created.status).toBe(201);
    const sid = created.body.sessionId as string;
    const transcript = async (id: string) =>
      (await json(`${base}/sessions/${sid}/agents/${id}/output?from=0`)).body as {
        data?: string;
        end?: number;
        gaps?: unknown[];
      };
    // every agent printed `hello <id>` at once: §10.2 MUST have it in the transcript (or a gap)
    await waitFor(async () => (await transcript('11')).data?.includes('hello 11'), 8000).catch(
      () => undefined,
    );
    const got: Record<string, unknown> = {};
    for (const id of ['00', '10', '11']) {
      const t = await transcript(id);
      got[id] = {
        hasHello: t.data?.includes(`hello ${id}`) ?? false,
        gaps: (t.gaps ?? []).length > 0,
      };
    }
    // the "host" process's files: untouched (tee opened /proc/<the service's pid in its own
    // namespace>/fd/<n>, which on the tmux server's side is another process's descriptor)
    const changed = readdirSync(decoyDir()).filter(
      (f) => readFileSync(path.join(decoyDir(), f), 'utf8') !== 'DECOY\n',
    );
    expect({ transcripts: got, decoyFilesChanged: changed }).toEqual({
      transcripts: {
        '00': { hasHello: true, gaps: false },
        '10': { hasHello: true, gaps: false },
        '11': { hasHello: true, gaps: false },
      },
      decoyFilesChanged: [],
    });
  }, 60000);
});
