import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { freePort, startService, type ServiceProcess } from './support/service-process';
import { scrubbedEnv, TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const ROOT = path.join(__dirname, '..');

/** The meta manager, one manager and one worker: the smallest team with every role. */
const TEAM3 = {
  agents: {
    metaManager: { id: '00', prompt: 'p' },
    units: [
      { unitId: 1, manager: { id: '10', prompt: 'p' }, workers: [{ id: '11', prompt: 'p' }] },
    ],
  },
};

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
    const created = await post(`${base}/runs`, TEAM3);
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

/** VmRSS of a process, in KiB. */
const rssKiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

describe('A14d: the pipe under a stalled or starved service (e2e, real service process, private tmux)', () => {
  let server: TmuxTestServer;
  let svc: ServiceProcess;
  let dir: string;
  const ws = () => path.join(dir, 'ws');
  /** While `<dir>/flood` exists, new agents 10 and 11 print without pause (as an agent dumping a build log does); every other agent prints one line and waits. */
  const agentScript = () =>
    [
      '#!/bin/sh',
      'printf \'hello %s\\n\' "$MAS_AGENT_ID"',
      `if [ -e ${dir}/flood ]; then case "$MAS_AGENT_ID" in 1[01]) exec yes "$MAS_AGENT_ID $(printf %0200d 0)" ;; esac; fi`,
      'exec sleep 100000',
      '',
    ].join('\n');
  const team = (ids: string[]) => ({
    agents: {
      metaManager: { id: '00', prompt: 'p' },
      units: [
        {
          unitId: 1,
          manager: { id: '10', prompt: 'p' },
          workers: ids.filter((i) => /^1[1-3]$/.test(i)).map((id) => ({ id, prompt: 'p' })),
        },
        ...(ids.some((i) => i.startsWith('2'))
          ? [2, 3].map((u) => ({
              unitId: u,
              manager: { id: `${u}0`, prompt: 'p' },
              workers: [1, 2, 3].map((x) => ({ id: `${u}${x}`, prompt: 'p' })),
            }))
          : []),
      ],
    },
  });

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/a14d-'));
    mkdirSync(ws());
    writeFileSync(path.join(dir, 'agent'), agentScript(), { mode: 0o755 });
    server = TmuxTestServer.create();
    svc = await startService({
      MAS_WORKSPACE_ROOT: ws(),
      MAS_TMUX_SOCKET: server.socket,
      MAS_TMUX_CONFIG: server.config,
      MAS_AGENT_COMMAND: path.join(dir, 'agent'),
      MAS_AGENT_PROCESS_NAMES: 'sleep,yes',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_PROMPT_DELAY_MS: '60000',
      MAS_OUTPUT_MAX_BYTES: '65536',
      MAS_RATE_LIMIT_RUNS: '1000',
    });
  }, 90000);

  afterAll(async () => {
    if (svc?.alive()) svc.proc.kill('SIGCONT');
    await svc?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Known and open (decision 0008): tmux queues a pipe-pane's output in its own memory, without a
  // limit, while the reader is stalled. Fails today, so Jest reports it passed; it must become a
  // plain `it` the day the service bounds it.
  it.failing(
    'A14d-2 (doubtful reading): while the service is stalled (SIGSTOP, 12 s) and two agents print without pause, the tmux server does not buffer their output without bound',
    async () => {
      writeFileSync(path.join(dir, 'flood'), '');
      const created = await post(`${svc.url}/runs`, team(['00', '10', '11']));
      rmSync(path.join(dir, 'flood'));
      expect(created.status).toBe(201);
      const sid = created.body.sessionId as string;
      await waitFor(
        async () =>
          ((await json(`${svc.url}/sessions/${sid}/agents/11/output?limit=1`)).body.end as number) >
          1_000_000,
        20000,
      );
      const tmuxPid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
      const before = rssKiB(tmuxPid);
      svc.proc.kill('SIGSTOP');
      try {
        // the stall is the parameter of this test: a fixed time, not a condition to wait for
        await new Promise((r) => setTimeout(r, 12000));
      } finally {
        svc.proc.kill('SIGCONT');
      }
      const grownMiB = (rssKiB(tmuxPid) - before) / 1024;
      await post(`${svc.url}/sessions/${sid}/stop`, { force: true });
      // a stalled reader should cost a pipe's worth per pane (64 KiB FIFO, tee's buffer), not every
      // byte printed meanwhile: tmux queues a pipe-pane's output in memory with no limit
      expect(Math.round(grownMiB)).toBeLessThan(32);
    },
    90000,
  );

  it('A14d-3: a /runs that runs out of descriptors while opening its FIFOs (nofile) leaves nothing behind once descriptors are back: no tmux session, no directory, no descriptor held (R13, §4.9, A6)', async () => {
    const first = await post(`${svc.url}/runs`, team(['00', '10', '11']));
    expect(first.status).toBe(201);
    const firstId = first.body.sessionId as string;
    await waitFor(
      async () =>
        ((await json(`${svc.url}/sessions/${firstId}/agents/11/output?limit=1`)).body
          .end as number) > 0,
      10000,
    );
    const pid = svc.proc.pid!;
    const hard = /Max open files\s+\d+\s+(\d+)/.exec(
      readFileSync(`/proc/${pid}/limits`, 'utf8'),
    )![1];
    const fdsBefore = fdCount(pid);
    const state = async () => ({
      tmuxSessions: (await server.sessionNames()).length,
      sessionDirs: readdirSync(path.join(ws(), 'sessions')).length,
      listed: ((await json(`${svc.url}/sessions?status=all`)).body.total as number) ?? -1,
      extraFds: Math.max(0, fdCount(pid) - fdsBefore - 2),
    });
    const clean = await state();
    // a few descriptors to spare: the create's first steps pass, its 13 FIFOs do not all open
    expect((await run(['prlimit', `--pid=${pid}`, `--nofile=${fdsBefore + 8}:`])).code).toBe(0);
    let second: { status: number; body: Record<string, unknown> };
    try {
      second = await post(`${svc.url}/runs`, team(['00', '10', '11', '12', '13', '20', '30']));
    } finally {
      expect((await run(['prlimit', `--pid=${pid}`, `--nofile=${hard}:`])).code).toBe(0);
    }
    expect(second.status).not.toBe(201);
    // descriptors are back: whatever the failed create began is undone within a few seconds
    await waitFor(async () => JSON.stringify(await state()) === JSON.stringify(clean), 12000).catch(
      () => undefined,
    );
    expect(await state()).toEqual(clean);
    await post(`${svc.url}/sessions/${firstId}/stop`, { force: true });
  }, 90000);
});

describe('A14d: an agent whose FIFO is refused (A10) after a restore (e2e, in-process app, private tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  /** Every agent prints `ready <id>`; 11 then prints a numbered tick every 0.1 s. */
  const AGENT = path.join(__dirname, 'support', 'reattach-agent');

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: AGENT,
      MAS_AGENT_PROCESS_NAMES: 'sh',
      MAS_PROMPT_DELAY_MS: '60000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_ACTIVITY_IDLE_MS: '1000',
    });
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('A14d-4: an agent printing after a restore whose FIFO was replaced by a regular file is captured, or its loss is recorded as a gap with activity `unknown` — never silently dropped while it reads `idle` (§10.2 MUST, §10.4)', async () => {
    const s = (await request(t.http).post('/runs').send(TEAM3).expect(201)).body as {
      sessionId: string;
    };
    const out = async () =>
      (await request(t.http).get(`/sessions/${s.sessionId}/agents/11/output?limit=1`).expect(200))
        .body as { end: number };
    const gaps = () => {
      const f = path.join(t.workspace, 'sessions', s.sessionId, 'output', '11.json');
      try {
        return (JSON.parse(readFileSync(f, 'utf8')) as { gaps: unknown[] }).gaps.length;
      } catch {
        return 0;
      }
    };
    await waitFor(async () => (await out()).end > 100, 10000);
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    const endAtStop = (await out()).end;
    const gapsAtStop = gaps();
    // while stopped, 11's FIFO becomes a regular file (0600, ours): refused at the restore (A10)
    const fifo = path.join(t.workspace, 'sessions', s.sessionId, 'output', '11.fifo');
    rmSync(fifo);
    writeFileSync(fifo, 'not a fifo\n', { mode: 0o600 });
    await request(t.http)
      .post(`/sessions/${s.sessionId}/restore`)
      .send({ startAgents: true })
      .expect(200);
    // 11 prints `ready 11` and then a tick every 0.1 s: 4 s of it
    const seen = async () => {
      const a = (await request(t.http).get(`/sessions/${s.sessionId}/agents`).expect(200)).body
        .agents as Array<{ agentId: string; activity: string }>;
      return {
        captured: (await out()).end > endAtStop,
        gapRecorded: gaps() > gapsAtStop,
        activity: a.find((x) => x.agentId === '11')!.activity,
      };
    };
    await waitFor(async () => {
      const v = await seen();
      return v.captured || v.gapRecorded;
    }, 6000).catch(() => undefined);
    const v = await seen();
    // the regular file at the FIFO's name was the service's own name in its own 0700 directory:
    // replaced by a FIFO of ours (never written through), so the agent is captured again
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect({ capturedOrGap: v.captured || v.gapRecorded, activity: v.activity }).toEqual({
      capturedOrGap: true,
      activity: v.captured ? 'working' : 'unknown',
    });
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
  }, 60000);
});

describe('A14d: an agent that exits in the middle of a character (e2e, in-process app, private tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/a14d-'));
    // `hello`, then the first two bytes of a euro sign (E2 82 AC), and exit: the last character never completes
    writeFileSync(path.join(dir, 'agent'), "#!/bin/sh\nprintf 'hello\\n\\342\\202'\nexit 0\n", {
      mode: 0o755,
    });
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: path.join(dir, 'agent'),
      MAS_PROMPT_DELAY_MS: '60000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('A14d-5 (doubtful reading): a raw reader following `next` reaches `end` of a stopped session whose agent died mid-character (§10.2: bytes available always advance a read; invalid sequences read as U+FFFD)', async () => {
    const s = (await request(t.http).post('/runs').send(TEAM3).expect(201)).body as {
      sessionId: string;
    };
    const read = async (from: number) =>
      (
        await request(t.http)
          .get(`/sessions/${s.sessionId}/agents/00/output?from=${from}&format=raw`)
          .expect(200)
      ).body as { next: number; end: number; data: string };
    await waitFor(async () => (await read(0)).end === 'hello\r\n'.length + 2, 10000);
    // the session is over: the two bytes will never become a character
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    let from = 0;
    let data = '';
    let r = await read(from);
    for (let i = 0; i < 5 && from < r.end; i++) {
      r = await read(from);
      data += r.data;
      from = r.next;
    }
    expect({ next: from, end: r.end, data }).toEqual({
      next: r.end,
      end: 'hello\r\n'.length + 2,
      data: 'hello\r\n\ufffd',
    });
  }, 60000);
});

describe('A14d: a tmux server left with no session (exit-empty off, or a client keeping it up) (e2e, in-process app)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    // the user's configuration applies on the default server (§7.1); tmux 3.x's `exit-empty off`
    // keeps the server up with no session, as orphaned clients of a killed service did in this run
    writeFileSync(server.config, 'set -g exit-empty off\n');
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: path.join(__dirname, 'support', 'reattach-agent'),
      MAS_PROMPT_DELAY_MS: '60000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('A14d-6: after the last session stops, a server with no session is "no live sessions" (§7.2): list answers 200 and a new /runs 201, the breaker stays closed (R5)', async () => {
    const s = (await request(t.http).post('/runs').send(TEAM3).expect(201)).body as {
      sessionId: string;
    };
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    expect(await server.sessionNames()).toEqual([]);
    // a few reads and the capture's own re-attach attempts, as a client polling the list would make
    const lists: number[] = [];
    for (let i = 0; i < 6; i++) {
      lists.push((await request(t.http).get('/sessions')).status);
      await new Promise((r) => setTimeout(r, 600));
    }
    const again = await request(t.http).post('/runs').send(TEAM3);
    expect({ lists, runs: again.status, code: again.body.code }).toEqual({
      lists: [200, 200, 200, 200, 200, 200],
      runs: 201,
      code: undefined,
    });
  }, 60000);
});
