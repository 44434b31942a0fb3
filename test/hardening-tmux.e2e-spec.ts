import childProcess = require('node:child_process');
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { TmuxTree } from '../src/tmux/tmux.types';
import { createTestApp, FAKE_AGENT, type TestApp } from './support/create-test-app';
import { getJson, holdConnections } from './support/keepalive';
import { environOf, pidsWithArgv, watchArgv } from './support/proc-scan';
import { startService, type ServiceProcess } from './support/service-process';
import { scrubbedEnv, TmuxTestServer } from './support/tmux-server';
import { standardTeam } from './support/team';
import { waitFor } from './support/wait-for';

const uid = process.getuid!();
/** Runs tmux against an explicit socket (the service's default-socket servers have no TmuxTestServer). */
const tmuxAt = (socket: string, ...args: string[]) =>
  new Promise<string>((resolve) =>
    childProcess.execFile(
      'tmux',
      ['-u', '-S', socket, ...args],
      { env: scrubbedEnv() },
      (_e, out) => resolve(out),
    ),
  );
const agentsRunning = async (t: TestApp, id: string, headers: Record<string, string> = {}) =>
  (await request(t.http).get(`/sessions/${id}`).set(headers)).body.agentCount === 13;

describe('issue 12 #5 (A4): first create on a fresh machine, MAS_TMUX_SOCKET unset', () => {
  let tmpdir: string;
  let conf: string;
  beforeEach(() => {
    tmpdir = mkdtempSync('/tmp/ht-');
    conf = path.join(tmpdir, 'empty.conf');
    writeFileSync(conf, '');
  });
  afterEach(async () => {
    await tmuxAt(path.join(tmpdir, `tmux-${uid}`, 'default'), 'kill-server'); // the server this test started, never the user's
    rmSync(tmpdir, { recursive: true, force: true });
  });

  it('fresh machine: POST /runs answers 201 and the agents run, with the socket directory created 0700', async () => {
    const t = await createTestApp(undefined, { TMUX_TMPDIR: tmpdir, MAS_TMUX_CONFIG: conf });
    try {
      expect(t.cfg.tmuxSocket).toBe(path.join(tmpdir, `tmux-${uid}`, 'default'));
      const res = await request(t.http).post('/runs').send(standardTeam());
      expect(res.status).toBe(201);
      await waitFor(() => agentsRunning(t, res.body.sessionId), 15000);
      expect(statSync(path.join(tmpdir, `tmux-${uid}`)).mode & 0o777).toBe(0o700);
      await request(t.http).get('/health/ready').expect(200);
    } finally {
      await t.close();
    }
  });

  const unsafe: [string, (dir: string) => void][] = [
    ['mode 0751', (d) => chmodSync(d, 0o751)],
    ['mode 0777', (d) => chmodSync(d, 0o777)],
    ...(uid === 0
      ? [
          ['owned by another uid', (d: string) => chownSync(d, 65534, 65534)] as [
            string,
            (dir: string) => void,
          ],
        ]
      : []),
  ];
  it.each(unsafe)(
    'unsafe socket directory (%s): 503 TMUX_UNAVAILABLE misconfigured, readiness down, nothing created',
    async (_name, spoil) => {
      const dir = path.join(tmpdir, `tmux-${uid}`);
      mkdirSync(dir, { mode: 0o700 });
      spoil(dir);
      const t = await createTestApp(undefined, { TMUX_TMPDIR: tmpdir, MAS_TMUX_CONFIG: conf });
      try {
        const res = await request(t.http).post('/runs').send(standardTeam());
        expect(res.status).toBe(503);
        expect(res.body).toMatchObject({
          code: 'TMUX_UNAVAILABLE',
          details: { reason: 'misconfigured' },
        });
        expect(res.headers['retry-after']).toBeDefined();
        const list = await request(t.http).get('/sessions');
        expect([200, 503]).toContain(list.status); // a listing may answer from disk; never a 502 or 500
        await request(t.http).get('/health/ready').expect(503);
        expect(await tmuxAt(path.join(dir, 'default'), 'list-sessions')).toBe('');
      } finally {
        await t.close();
      }
    },
  );
});

describe('issue 12 #4 (A5): passthrough secrets never in any argv', () => {
  // hostile to tmux's parser too: quotes, $, #{}, ;, backslash, UTF-8 (T-74)
  const SECRET = `s3cret-${process.pid}-${Date.now()} 'q' "d" $HOME #{session_name} ;\\ é`;
  const TOKEN = `tok-${process.pid}-${Date.now()}`;
  let server: TmuxTestServer;
  let t: TestApp;
  let spawned: string[][];
  let spy: jest.SpyInstance;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    spawned = [];
    const real = childProcess.spawn;
    spy = jest.spyOn(childProcess, 'spawn').mockImplementation(((
      cmd: string,
      args: string[],
      opts: object,
    ) => {
      spawned.push([cmd, ...args]);
      return real(cmd, args, opts);
    }) as typeof childProcess.spawn);
    t = await createTestApp(server, {
      MAS_AGENT_ENV_PASSTHROUGH: 'MAS_TEST_SECRET',
      MAS_TEST_SECRET: SECRET,
      MAS_API_TOKEN: TOKEN,
    });
  });
  afterAll(async () => {
    spy.mockRestore();
    await t.close();
    await server.stop();
  });

  const auth = { Authorization: `Bearer ${TOKEN}` };
  const agentPanes = async (name: string) =>
    (await server.ok('list-panes', '-s', '-t', `=${name}`, '-F', '#{pane_pid} #{@mas_agent_id}'))
      .split('\n')
      .filter((l) => /^\d+ \d\d$/.test(l))
      .map((l) => Number(l.split(' ')[0]));

  it("secrets in ps: a passthrough value is in no /proc/*/cmdline during and after create and restore, yet in the agents' environment", async () => {
    const watch = watchArgv(SECRET);
    const res = await request(t.http).post('/runs').set(auth).send(standardTeam());
    expect(res.status).toBe(201);
    await waitFor(() => agentsRunning(t, res.body.sessionId, auth), 15000);
    expect(await watch.stop()).toEqual([]);
    expect(await pidsWithArgv(SECRET)).toEqual([]);

    const panes = await agentPanes(res.body.tmuxSession);
    expect(panes).toHaveLength(13);
    for (const pid of panes) expect(await environOf(pid)).toContain(`MAS_TEST_SECRET=${SECRET}`);
    expect((await environOf(panes[0])).filter((e) => e.includes(TOKEN))).toEqual([]);

    // restore builds its plan the same way and goes through the same gateway call
    await request(t.http)
      .post(`/sessions/${res.body.sessionId}/stop`)
      .set(auth)
      .send({ force: true })
      .expect(200);
    const watch2 = watchArgv(SECRET);
    await request(t.http)
      .post(`/sessions/${res.body.sessionId}/restore`)
      .set(auth)
      .send({ startAgents: true })
      .expect(200);
    await waitFor(() => agentsRunning(t, res.body.sessionId, auth), 15000);
    expect(await watch2.stop()).toEqual([]);
    const restored = await agentPanes(res.body.tmuxSession);
    for (const pid of restored) expect(await environOf(pid)).toContain(`MAS_TEST_SECRET=${SECRET}`);

    // a create while the control client runs (a message just attached it) sends the secrets as its lines
    await request(t.http)
      .post('/message')
      .set(auth)
      .send({ session: res.body.tmuxSession, target: '00', message: 'x' })
      .expect(200);
    expect(t.gateway.control?.up).toBe(true);
    const starts = t.gateway.control!.starts;
    const forked = spawned.length;
    const watch3 = watchArgv(SECRET);
    const second = await request(t.http).post('/runs').set(auth).send(standardTeam()).expect(201);
    await waitFor(() => agentsRunning(t, second.body.sessionId, auth), 15000);
    expect(await watch3.stop()).toEqual([]);
    expect(t.gateway.control!.starts).toBe(starts);
    expect(spawned.slice(forked).filter((argv) => argv.includes('new-session'))).toEqual([]); // it went over the control client
    for (const pid of await agentPanes(second.body.tmuxSession))
      expect(await environOf(pid)).toContain(`MAS_TEST_SECRET=${SECRET}`);

    // the argv of every client this process spawned, including those too short-lived for the scan
    expect(spawned.length).toBeGreaterThan(0);
    expect(spawned.filter((argv) => argv.some((a) => a.includes(SECRET)))).toEqual([]);
  }, 90_000);
});

describe('issue 12 #2 (A6): spawn failures under fd exhaustion never end the process', () => {
  let server: TmuxTestServer;
  let svc: ServiceProcess | undefined;
  let workspace: string;
  beforeAll(() => {
    server = TmuxTestServer.create();
    workspace = mkdtempSync('/tmp/mw-');
  });
  afterAll(async () => {
    await svc?.stop();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('fd exhaustion: with ~180 idle keep-alive connections under ulimit -n 200, a tmux-backed request answers 503 resources (or normally) and the process lives on', async () => {
    svc = await startService(
      {
        MAS_TMUX_SOCKET: server.socket,
        MAS_TMUX_CONFIG: server.config,
        MAS_WORKSPACE_ROOT: workspace,
        MAS_AGENT_COMMAND: FAKE_AGENT,
        MAS_CACHE_TTL_MS: '0',
        MAS_API_MAX_CONNECTIONS: '60000',
        MAS_RATE_LIMIT_OTHER: '100000',
      },
      { nofile: 200 },
    );
    const held = await holdConnections(svc.port, 195);
    try {
      expect(held.length).toBeGreaterThan(100);
      // one freed slot for the request itself; a fork needs several more
      held.pop()?.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await getJson(svc.port, `/sessions?x=${i}`));
      expect(svc.alive()).toBe(true);
      for (const a of answers) {
        if (!a || a.status === 200) continue; // connection refused at accept, or fds sufficed
        expect(a.status).toBe(503);
        expect(a.body).toMatchObject({ code: 'TMUX_UNAVAILABLE' });
        expect(['resources', 'breaker_open']).toContain(
          (a.body.details as { reason: string }).reason,
        );
        expect(a.headers['retry-after']).toBeDefined();
      }
      expect(
        answers.some(
          (a) => a?.status === 503 && (a.body.details as { reason: string }).reason === 'resources',
        ),
      ).toBe(true);
    } finally {
      for (const s of held) s.destroy();
    }
    await waitFor(async () => (await getJson(svc!.port, '/health'))?.status === 200, 5000);
    expect(svc.alive()).toBe(true);
    expect(svc.output()).not.toMatch(/Unhandled 'error' event|TypeError/);
  }, 120_000);
});

describe('issue 12 #11 (A15): our own control client never shows as attached', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; tmuxSession: string };
  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_CACHE_TTL_MS: '0',
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
    s = (await request(t.http).post('/runs').send(standardTeam()).expect(201)).body;
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.state === 'ready',
      15000,
    );
  }, 30000);
  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('control client shows as attached: from 4.5 s to 7 s after a message the session is never active, attachedClients always 0', async () => {
    // The worst moment: a listing forked in the very tick the idle client is closed (tmux takes a
    // few milliseconds to detach it).
    const channel = t.gateway.control!;
    const atClose: Promise<TmuxTree>[] = [];
    const close = channel.close.bind(channel);
    jest.spyOn(channel, 'close').mockImplementation((answer) => {
      close(answer);
      atClose.push(t.gateway.listTree().catch(() => ({ sessions: [] })));
    });
    await request(t.http)
      .post('/message')
      .send({ session: s.tmuxSession, target: 'all', message: 'hello' })
      .expect(200);
    const sent = Date.now();
    expect(channel.clientName).toBeDefined(); // the client attached to type
    await new Promise((r) => setTimeout(r, Math.max(0, sent + 4500 - Date.now())));
    // Four staggered pollers, each every ~50 ms: a snapshot every ~12 ms, so the few milliseconds in
    // which the closing client is still attached cannot fall between two of them.
    const seen: { status: string; attachedClients: number; at: number }[] = [];
    const poll = async (offset: number) => {
      await new Promise((r) => setTimeout(r, offset));
      while (Date.now() - sent < 7000) {
        const b = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
        seen.push({ status: b.status, attachedClients: b.attachedClients, at: Date.now() - sent });
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await Promise.all([0, 12, 25, 37].map(poll));
    jest.restoreAllMocks();
    expect(seen.length).toBeGreaterThan(10);
    expect(seen.filter((x) => x.status === 'active' || x.attachedClients !== 0)).toEqual([]);
    // and the client really went away after its idle time
    expect(channel.clientName).toBeUndefined();
    expect(atClose.length).toBeGreaterThan(0);
    for (const tree of await Promise.all(atClose))
      expect(tree.sessions.find((x) => x.name === s.tmuxSession)?.attached).toBe(0);
  }, 20000);
});
