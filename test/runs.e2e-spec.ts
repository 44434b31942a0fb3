import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';
import { standardTeam, teamAgent } from './support/team';
import { waitFor } from './support/wait-for';

const agent = (id: string) => teamAgent(id, 'prompt for');
const team13 = standardTeam('prompt for');
const small = { agents: { units: [{ unitId: 1, manager: agent('10'), workers: [agent('11')] }] } };

describe('runs and lifecycle (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server);
    await server.ok('new-session', '-d', '-s', 'work', 'sleep 600');
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  const sessionDirs = () =>
    existsSync(path.join(t.workspace, 'sessions'))
      ? readdirSync(path.join(t.workspace, 'sessions')).filter((n) => !n.startsWith('.'))
      : [];
  const received = (id: string, a: string) => {
    const f = path.join(t.workspace, 'sessions', id, 'unit', a, 'received.bin');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };

  it('creates a 13-agent team: 201 fast, listed at once, layout, tags, files and index', async () => {
    const res = await request(t.http).post('/runs').send(team13).expect(201);
    const { sessionId, tmuxSession } = res.body;
    expect(res.body).toMatchObject({
      status: 'starting',
      tmuxSession: `mas-${sessionId.slice(0, 8)}`,
      agents: ['00', '10', '11', '12', '13', '20', '21', '22', '23', '30', '31', '32', '33'],
    });
    expect(Date.parse(res.body.startedAt)).not.toBeNaN();
    const list = await request(t.http).get('/sessions').expect(200);
    expect(list.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toContain(sessionId);
    const layout = await server.ok(
      'list-panes',
      '-s',
      '-t',
      `=${tmuxSession}`,
      '-F',
      '#{window_index}:#{window_name}:#{pane_index}:#{@mas_agent_id}:#{@mas_agent_launched}:#{pane_left},#{pane_top}',
    );
    const rows = layout.trim().split('\n');
    expect(rows.map((r) => r.split(':').slice(0, 4).join(':'))).toEqual([
      '0:shell:0:',
      '1:meta-manager:0:00',
      '2:unit1:0:10',
      '2:unit1:1:11',
      '2:unit1:2:12',
      '2:unit1:3:13',
      '3:unit2:0:20',
      '3:unit2:1:21',
      '3:unit2:2:22',
      '3:unit2:3:23',
      '4:unit3:0:30',
      '4:unit3:1:31',
      '4:unit3:2:32',
      '4:unit3:3:33',
      '5:monitor:0:',
    ]);
    // column-major geometry: 0 top-left, 1 bottom-left, 2 top-right, 3 bottom-right
    const pos = rows
      .filter((r) => r.startsWith('2:'))
      .map((r) => r.split(':')[5].split(',').map(Number));
    expect(pos[0][0]).toBe(pos[1][0]);
    expect(pos[1][1]).toBeGreaterThan(pos[0][1]);
    expect(pos[2][0]).toBeGreaterThan(pos[0][0]);
    expect(pos[3][1]).toBeGreaterThan(pos[2][1]);
    const tags = await server.ok(
      'display-message',
      '-p',
      '-t',
      `=${tmuxSession}:`,
      '#{@mas_session_id} #{@mas_workspace} #{@mas_created_by}',
    );
    expect(tags.trim()).toBe(`${sessionId} ${t.workspace} mas-api`);
    const dir = path.join(t.workspace, 'sessions', sessionId);
    expect(statSync(path.join(dir, 'config.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path.join(dir, 'metadata.json'), 'utf8'))).toMatchObject({
      sessionId,
      sessionName: tmuxSession,
      status: 'active',
      createdBy: 'mas-api',
    });
    const index = JSON.parse(
      readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8'),
    );
    expect(index.sessions).toContainEqual(
      expect.objectContaining({ sessionId, tmuxSession, status: 'active' }),
    );
    // the shell tools source .session
    const sourced = execFileSync(
      'bash',
      [
        '-c',
        'source "$1" && echo "$SESSION_ID|$TMUX_SESSION|$STATUS|$SESSION_DIR"',
        '_',
        path.join(dir, '.session'),
      ],
      { encoding: 'utf8' },
    );
    expect(sourced.trim()).toBe(`${sessionId}|${tmuxSession}|active|${dir}`);
    // prompts arrive in the right panes, in roster order, and startup reports ready
    const detail = await waitFor(async () => {
      const d = (await request(t.http).get(`/sessions/${sessionId}`)).body;
      return d.startup?.state === 'ready' ? d : undefined;
    }, 15000);
    expect(detail.startup.prompts.every((p: { state: string }) => p.state === 'delivered')).toBe(
      true,
    );
    for (const a of res.body.agents) expect(received(sessionId, a)).toBe(`prompt for ${a}\r`);
    // one agent at a time, in roster order: each agent's last byte lands before the next one's first
    const lastWrite = res.body.agents.map(
      (a: string) =>
        statSync(path.join(t.workspace, 'sessions', sessionId, 'unit', a, 'received.bin'), {
          bigint: true,
        }).mtimeNs,
    );
    expect([...lastWrite].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))).toEqual(lastWrite);
    expect(detail.agents.every((a: { status: string }) => a.status === 'running')).toBe(true);
    expect(detail.agentCount).toBe(13);
  }, 30000);

  it('creates 4 units with 5 workers each: unit4 window, tiled windows, monitor moved', async () => {
    const units = [1, 2, 3, 4].map((u) => ({
      unitId: u,
      manager: agent(`${u}0`),
      workers: [1, 2, 3, 4, 5].map((x) => agent(`${u}${x}`)),
    }));
    const res = await request(t.http).post('/runs').send({ agents: { units } }).expect(201);
    expect(res.body.agents).toHaveLength(24);
    const windows = await server.ok(
      'list-windows',
      '-t',
      `=${res.body.tmuxSession}:`,
      '-F',
      '#{window_index}:#{window_name}:#{window_panes}',
    );
    expect(windows.trim().split('\n')).toEqual([
      '0:shell:1',
      '1:meta-manager:1',
      '2:unit1:6',
      '3:unit2:6',
      '4:unit3:6',
      '5:unit4:6',
      '6:monitor:1',
    ]);
    const d = (await request(t.http).get(`/sessions/${res.body.sessionId}`).expect(200)).body;
    expect(d.agents.find((a: { agentId: string }) => a.agentId === '45')).toMatchObject({
      window: 'unit4',
      pane: 5,
    });
    await request(t.http)
      .post(`/sessions/${res.body.sessionId}/stop`)
      .send({ force: true })
      .expect(200);
  });

  it.each([
    [
      { agents: { units: [{ unitId: 1, manager: agent('10'), workers: [agent('16')] }] } },
      'agents.units[0].workers[0].id',
      'hostable_id',
    ],
    [
      { agents: { units: [{ unitId: 5, manager: agent('50'), workers: [agent('51')] }] } },
      'agents.units[0].unitId',
      'range',
    ],
    [
      { agents: { units: [{ unitId: 1, manager: agent('10'), workers: [agent('21')] }] } },
      'agents.units[0].workers[0].id',
      'hostable_id',
    ],
    [
      { agents: { units: [{ unitId: 1, manager: agent('10'), workers: [agent('10')] }] } },
      'agents.units[0].workers[0].id',
      'hostable_id',
    ],
    [{ agents: { units: [] } }, 'agents.units', 'length'],
    [
      {
        agents: {
          metaManager: { id: '00', prompt: '   ' },
          units: [{ unitId: 1, manager: agent('10'), workers: [agent('11')] }],
        },
      },
      'agents.metaManager.prompt',
      'blank',
    ],
    [
      { agents: { units: [{ unitId: '1', manager: agent('10'), workers: [agent('11')] }] } },
      'agents.units[0].unitId',
      'type',
    ],
    [{}, 'agents', 'required'],
  ])('rejects an invalid team with 400 and creates nothing (%#)', async (body, field, rule) => {
    const before = sessionDirs();
    const names = await server.sessionNames();
    const res = await request(t.http).post('/runs').send(body).expect(400);
    expect(res.body.details.issues).toContainEqual(
      expect.objectContaining({ location: 'body', field, rule }),
    );
    expect(sessionDirs()).toEqual(before);
    expect(await server.sessionNames()).toEqual(names);
  });

  it('leaves nothing behind when the agent command does not exist', async () => {
    const bad = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: t.workspace,
      MAS_AGENT_COMMAND: '/nonexistent/agent',
    });
    try {
      const before = sessionDirs();
      const names = await server.sessionNames();
      const res = await request(bad.http).post('/runs').send(small).expect(503);
      expect(res.body.code).toBe('AGENT_COMMAND_UNAVAILABLE');
      expect(sessionDirs()).toEqual(before);
      expect(await server.sessionNames()).toEqual(names);
    } finally {
      await bad.close();
    }
  });

  it('leaves nothing behind when tmux fails mid-way (layout refused), and the index is clean', async () => {
    // A window size tmux cannot split into six panes makes the build fail after the session exists.
    const tiny = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: t.workspace,
      MAS_TMUX_WINDOW_SIZE: '10x10',
    });
    try {
      const before = sessionDirs();
      const names = await server.sessionNames();
      const units = [
        { unitId: 1, manager: agent('10'), workers: [1, 2, 3, 4, 5].map((x) => agent(`1${x}`)) },
      ];
      const res = await request(tiny.http).post('/runs').send({ agents: { units } });
      expect(res.status).toBeGreaterThanOrEqual(500);
      expect(sessionDirs()).toEqual(before);
      expect(await server.sessionNames()).toEqual(names);
      const index = JSON.parse(
        readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8'),
      );
      expect(index.sessions.map((e: { sessionId: string }) => e.sessionId).sort()).toEqual(
        before.sort(),
      );
    } finally {
      await tiny.close();
    }
  });

  it('rolls back the written directory when the index cannot be updated (held lock)', async () => {
    const before = sessionDirs();
    const names = await server.sessionNames();
    const lock = path.join(t.workspace, 'sessions', '.sessions.index.lock');
    // a live holder other than the service itself: a lock naming our own PID is stale at once (A17)
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      mkdirSync(path.dirname(lock), { recursive: true });
      writeFileSync(lock, `${holder.pid}\n${new Date().toISOString()}\n`);
      const res = await request(t.http).post('/runs').send(small).expect(503);
      expect(res.body).toMatchObject({
        code: 'WORKSPACE_UNAVAILABLE',
        details: { reason: 'index_locked' },
      });
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      holder.kill();
      rmSync(lock, { force: true });
    }
    expect(sessionDirs()).toEqual(before);
    expect(await server.sessionNames()).toEqual(names);
  }, 15000);

  it('refuses a read-only workspace with 503 before touching tmux', async () => {
    if (process.getuid?.() === 0) {
      // root ignores permission bits; an unsafe workspace path exercises the same refusal instead
      const unsafe = await createTestApp(server, {
        MAS_WORKSPACE_ROOT: path.join(server.dir, 'has space'),
      });
      try {
        const names = await server.sessionNames();
        const res = await request(unsafe.http).post('/runs').send(small).expect(503);
        expect(res.body).toMatchObject({
          code: 'WORKSPACE_UNAVAILABLE',
          details: { reason: 'unsafe_path' },
        });
        expect(await server.sessionNames()).toEqual(names);
      } finally {
        await unsafe.close();
      }
      return;
    }
    chmodSync(t.workspace, 0o555);
    try {
      await request(t.http).post('/runs').send(small).expect(503);
    } finally {
      chmodSync(t.workspace, 0o755);
    }
  });

  it('connect / stop / stop again / restore / connect', async () => {
    const { sessionId } = (await request(t.http).post('/runs').send(small).expect(201)).body;
    const c = (
      await request(t.http)
        .post(`/sessions/${sessionId}/connect`)
        .send({ window: 'design' })
        .expect(200)
    ).body;
    expect(c).toMatchObject({
      sessionId,
      status: 'connected',
      connectionDetails: { windows: 6, focusedWindow: 'unit1' },
    });
    expect(c.attachCommand).toBe(
      `tmux -S ${server.socket} attach-session -t mas-${sessionId.slice(0, 8)}:unit1`,
    );
    const nope = await request(t.http)
      .post(`/sessions/${sessionId}/connect`)
      .send({ window: 'nope' })
      .expect(400);
    // §3.3: `received` is for path, query and header values only, never a body field
    expect(nope.body.details.issues).toEqual([
      {
        location: 'body',
        field: 'window',
        rule: 'no_such_window',
        message: 'the session has no such window',
      },
    ]);
    const s1 = (await request(t.http).post(`/sessions/${sessionId}/stop`).expect(200)).body;
    expect(s1).toMatchObject({
      status: 'stopped',
      alreadyStopped: false,
      previousStatus: 'inactive',
    });
    expect(await server.sessionNames()).not.toContain(`mas-${sessionId.slice(0, 8)}`);
    const dir = path.join(t.workspace, 'sessions', sessionId);
    expect(readFileSync(path.join(dir, '.session'), 'utf8')).toContain('STATUS=stopped\n');
    const s2 = (await request(t.http).post(`/sessions/${sessionId}/stop`).expect(200)).body;
    expect(s2.alreadyStopped).toBe(true);
    const term = (await request(t.http).post(`/sessions/${sessionId}/connect`).send({}).expect(409))
      .body;
    expect(term).toMatchObject({ code: 'SESSION_TERMINATED', details: { restorable: true } });
    const r = (
      await request(t.http)
        .post(`/sessions/${sessionId}/restore`)
        .send({ startAgents: true })
        .expect(200)
    ).body;
    expect(r).toMatchObject({ status: 'restored', agentsStarted: true });
    expect(
      r.agents.map((a: { agentId: string; status: string }) => `${a.agentId}:${a.status}`),
    ).toEqual(['10:running', '11:running']);
    await request(t.http).post(`/sessions/${sessionId}/restore`).send({}).expect(409);
    await request(t.http).post(`/sessions/${sessionId}/connect`).send({}).expect(200);
    expect(readFileSync(path.join(dir, '.session'), 'utf8')).toContain('STATUS=active\n');
    await request(t.http).post(`/sessions/${sessionId}/stop`).send({ force: true }).expect(200);
  }, 20000);

  it('makes exactly one session for concurrent creates with the same Idempotency-Key', async () => {
    const before = sessionDirs().length;
    const key = `k-${Date.now()}`;
    const answers = await Promise.all(
      [1, 2, 3].map(() => request(t.http).post('/runs').set('Idempotency-Key', key).send(small)),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    expect(new Set(answers.map((a) => a.body.sessionId)).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotency-replayed'] === 'true')).toHaveLength(2);
    expect(sessionDirs().length).toBe(before + 1);
    const reused = await request(t.http)
      .post('/runs')
      .set('Idempotency-Key', key)
      .send(team13)
      .expect(409);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    // after a restart the key is unknown in memory: the @mas_request_id tag finds the session instead
    const restarted = await createTestApp(server, { MAS_WORKSPACE_ROOT: t.workspace });
    try {
      const again = await request(restarted.http)
        .post('/runs')
        .set('Idempotency-Key', key)
        .send(small)
        .expect(201);
      expect(again.body.sessionId).toBe(answers[0].body.sessionId);
      expect(sessionDirs().length).toBe(before + 1);
    } finally {
      await restarted.close();
    }
    await request(t.http)
      .post(`/sessions/${answers[0].body.sessionId}/stop`)
      .send({ force: true })
      .expect(200);
  });

  it('stopping one session leaves every other session untouched, even with a stale index lock', async () => {
    const a = (await request(t.http).post('/runs').send(small).expect(201)).body;
    const b = (await request(t.http).post('/runs').send(small).expect(201)).body;
    const lock = path.join(t.workspace, 'sessions', '.sessions.index.lock');
    writeFileSync(lock, '999999\n2026-01-01T00:00:00Z\n'); // no such pid: stale
    const before = await server.sessionNames();
    await request(t.http).post(`/sessions/${a.sessionId}/stop`).send({ force: true }).expect(200);
    const after = await server.sessionNames();
    expect(after).toEqual(before.filter((n) => n !== a.tmuxSession));
    expect(after).toEqual(expect.arrayContaining(['work', b.tmuxSession]));
    expect(existsSync(lock)).toBe(false);
    const index = JSON.parse(
      readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8'),
    );
    expect(
      index.sessions.find((e: { sessionId: string }) => e.sessionId === a.sessionId).status,
    ).toBe('stopped');
    await request(t.http).post(`/sessions/${b.sessionId}/stop`).send({ force: true }).expect(200);
  });

  it('GET /status summarises a chosen session and reports stopped without one', async () => {
    const a = (await request(t.http).post('/runs').send(small).expect(201)).body;
    const s = (await request(t.http).get(`/status?sessionId=${a.tmuxSession}`).expect(200)).body;
    expect(s).toMatchObject({
      status: 'running',
      session: a.tmuxSession,
      sessionId: a.sessionId,
      sessionStatus: 'inactive',
      httpServer: { running: true, pid: process.pid },
    });
    expect(s.agents.map((x: { id: string }) => x.id)).toEqual(['10', '11']);
    await request(t.http).post(`/sessions/${a.sessionId}/stop`).send({ force: true }).expect(200);
    await request(t.http).get('/status?sessionId=zz').expect(400);
  });
});
