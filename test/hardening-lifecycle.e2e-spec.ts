import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { scrubbedEnv, TmuxTestServer } from './support/tmux-server';
import { standardTeam, teamAgent } from './support/team';
import { waitFor } from './support/wait-for';

// the module object itself (not an import-star copy), so jest can replace randomUUID on it
import crypto = require('node:crypto');

const small = {
  agents: { units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }] },
};
/** 25 agents: a layout too big for one tmux invocation, so an outside kill lands between two of them. */
const big = {
  agents: {
    units: [1, 2, 3, 4].map((u) => ({
      unitId: u,
      manager: teamAgent(`${u}0`),
      workers: [1, 2, 3, 4, 5].map((x) => teamAgent(`${u}${x}`)),
    })),
  },
};

/** Issue 12 findings #1, #3, #6, #8, #12, #20 (contract A1, A2, A3, A11), each against real tmux. */
describe('hardening: lifecycle never touches what it does not own (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_PROMPT_DELAY_MS: '1500' });
    await server.ok('new-session', '-d', '-s', 'keeper', 'sleep 600'); // the server outlives the sessions under test
  });

  afterAll(async () => {
    jest.restoreAllMocks();
    await t.close();
    await server.stop();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await server.tmux('set-hook', '-gu', 'session-created');
  });

  const tmuxSync = (...args: string[]) =>
    execFileSync('tmux', ['-u', '-S', server.socket, '-f', server.config, ...args], {
      env: scrubbedEnv(),
      encoding: 'utf8',
    });
  const indexStatus = (id: string) =>
    JSON.parse(
      readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8'),
    ).sessions.find((e: { sessionId: string }) => e.sessionId === id)?.status;
  const stopped = async (body: object) => {
    const s = (await request(t.http).post('/runs').send(body).expect(201)).body;
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    return s as { sessionId: string; tmuxSession: string };
  };
  /** The next session id the service draws is `id`; `then` runs right after the draw, before anything is written. */
  const nextDraw = (id: string, then: () => void) =>
    jest.spyOn(crypto, 'randomUUID').mockImplementationOnce(() => {
      then();
      return id as ReturnType<typeof crypto.randomUUID>;
    });

  it('#1 restore of a session whose name another workspace holds: 409 SESSION_NAME_TAKEN, theirs untouched, nothing changed', async () => {
    const s = await stopped(small);
    // another workspace's live session with the same name (a moved or copied workspace)
    await server.ok('new-session', '-d', '-s', s.tmuxSession, 'sleep 600');
    await server.ok('set-option', '-t', `=${s.tmuxSession}:`, '@mas_session_id', s.sessionId);
    await server.ok('set-option', '-t', `=${s.tmuxSession}:`, '@mas_workspace', '/elsewhere/ws');
    const theirs = (
      await server.ok('display-message', '-p', '-t', `=${s.tmuxSession}:`, '#{session_id}')
    ).trim();
    const before = readFileSync(
      path.join(t.workspace, 'sessions', s.sessionId, '.session'),
      'utf8',
    );
    for (const body of [{ startAgents: true }, { startAgents: true, force: true }]) {
      const res = await request(t.http)
        .post(`/sessions/${s.sessionId}/restore`)
        .send(body)
        .expect(409);
      expect(res.body).toMatchObject({
        code: 'SESSION_NAME_TAKEN',
        details: { tmuxSession: s.tmuxSession },
      });
    }
    expect(
      (
        await server.ok(
          'display-message',
          '-p',
          '-t',
          `=${s.tmuxSession}:`,
          '#{session_id} #{@mas_workspace}',
        )
      ).trim(),
    ).toBe(`${theirs} /elsewhere/ws`);
    expect(indexStatus(s.sessionId)).toBe('stopped');
    expect(readFileSync(path.join(t.workspace, 'sessions', s.sessionId, '.session'), 'utf8')).toBe(
      before,
    );
    expect((await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body.status).toBe(
      'terminated',
    );
    await server.ok('kill-session', '-t', theirs);
  });

  it('#1 a name planted during a create is redrawn, never killed', async () => {
    const planted = crypto.randomUUID();
    const plantedName = `mas-${planted.slice(0, 8)}`;
    // the name appears after the service listed the server and before new-session runs
    nextDraw(planted, () => tmuxSync('new-session', '-d', '-s', plantedName, 'sleep 600'));
    const res = await request(t.http)
      .post('/runs')
      .set('X-Request-Id', 'planted-name')
      .send(small)
      .expect(201);
    expect(res.body.sessionId).not.toBe(planted);
    expect(await server.sessionNames()).toEqual(
      expect.arrayContaining([plantedName, res.body.tmuxSession]),
    );
    expect(existsSync(path.join(t.workspace, 'sessions', planted))).toBe(false);
    expect(indexStatus(planted)).toBeUndefined();
    await request(t.http)
      .post(`/sessions/${res.body.sessionId}/stop`)
      .send({ force: true })
      .expect(200);
    await server.ok('kill-session', '-t', `=${plantedName}`);
  });

  it('#8 a session killed from outside mid-restore: 502, index value put back', async () => {
    const s = await stopped(big);
    await server.ok('set-hook', '-g', 'session-created', 'kill-session');
    const res = await request(t.http).post(`/sessions/${s.sessionId}/restore`).send({}).expect(502);
    expect(res.body).toMatchObject({ code: 'TMUX_ERROR', details: { reason: 'session_vanished' } });
    expect(indexStatus(s.sessionId)).toBe('stopped');
  });

  it('#3 #20 a forced restore mid-startup cancels the job: no old prompt is typed into the restored agents', async () => {
    const s = (await request(t.http).post('/runs').send(standardTeam('old prompt')).expect(201))
      .body;
    const received = (a: string) => {
      const f = path.join(t.workspace, 'sessions', s.sessionId, 'unit', a, 'received.bin');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    };
    // wait until the first prompt is typed, then restore over the running startup
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.prompts[0].state ===
        'delivered',
      10000,
    );
    await request(t.http)
      .post(`/sessions/${s.sessionId}/restore`)
      .send({ startAgents: true, force: true })
      .expect(200);
    const atRestore = s.agents.map((a: string) => received(a));
    const detail = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
    expect(detail.startup.state).toBe('cancelled');
    const states = detail.startup.prompts.map((p: { state: string }) => p.state);
    expect(states.filter((x: string) => x === 'pending')).toEqual([]); // #20: cancelled, not pending or failed
    expect(states.filter((x: string) => x === 'failed')).toEqual([]);
    expect(states).toContain('cancelled');
    // well past the prompt delay and a full round of typing: nothing more arrives
    await new Promise((r) => setTimeout(r, 3000));
    expect(s.agents.map((a: string) => received(a))).toEqual(atRestore);
    expect(atRestore.filter((x: string) => x.includes('old prompt')).length).toBeLessThan(13);
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
  }, 30000);

  it('#20 a stop during startup marks the untyped prompts cancelled', async () => {
    const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    const startup = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body
      .startup;
    expect(startup).toMatchObject({
      state: 'cancelled',
      prompts: [
        { agentId: '10', state: 'cancelled' },
        { agentId: '11', state: 'cancelled' },
      ],
    });
  });

  it('#6 restore never starts an agent in the service cwd or through a symlink: unsafe slot is an idle shell, status error unsafe_dir', async () => {
    const s = await stopped(small);
    const unit = path.join(t.workspace, 'sessions', s.sessionId, 'unit');
    const outside = mkdtempSync('/tmp/mo-');
    rmSync(path.join(unit, '10'), { recursive: true, force: true }); // missing: recreated
    rmSync(path.join(unit, '11'), { recursive: true, force: true });
    symlinkSync(outside, path.join(unit, '11')); // a link out of the session
    try {
      const r = (
        await request(t.http)
          .post(`/sessions/${s.sessionId}/restore`)
          .send({ startAgents: true })
          .expect(200)
      ).body;
      expect(r.agentsStarted).toBe(true);
      expect(
        r.agents.map(
          (a: { agentId: string; status: string; reason: string }) =>
            `${a.agentId}:${a.status}:${a.reason}`,
        ),
      ).toEqual(['10:running:agent_process', '11:error:unsafe_dir']);
      const cwd = (
        await server.ok(
          'list-panes',
          '-s',
          '-t',
          `=${s.tmuxSession}`,
          '-F',
          '#{@mas_agent_id}=#{pane_current_path}',
        )
      )
        .trim()
        .split('\n');
      expect(cwd).toContain(`10=${path.join(unit, '10')}`);
      expect(cwd).toContain(`11=${path.join(t.workspace, 'sessions', s.sessionId)}`);
      expect(statSync(path.join(unit, '10')).isDirectory()).toBe(true);
      expect(readdirSync(outside)).toEqual([]);
      await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
      // every slot unsafe: 200 with agentsStarted false, nothing launched
      rmSync(path.join(unit, '10'), { recursive: true, force: true });
      mkdirSync(path.join(outside, 'x'));
      symlinkSync(path.join(outside, 'x'), path.join(unit, '10'));
      const none = (
        await request(t.http)
          .post(`/sessions/${s.sessionId}/restore`)
          .send({ startAgents: true })
          .expect(200)
      ).body;
      expect(none.agentsStarted).toBe(false);
      expect(readdirSync(path.join(outside, 'x'))).toEqual([]);
      await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  }, 20000);
});

describe('hardening: a session killed from outside between the invocations of a create (e2e, real tmux)', () => {
  it('#8 answers 502 session_vanished, leaves nothing, kills nobody else', async () => {
    const server = TmuxTestServer.create();
    // a long workspace path makes the 25-agent layout need more than one tmux invocation (T-40)
    const ws = path.join(mkdtempSync('/tmp/mw-'), 'w'.repeat(200));
    mkdirSync(ws);
    const t = await createTestApp(server, { MAS_WORKSPACE_ROOT: ws, MAS_TMUX_CONTROL: 'false' });
    try {
      await server.ok('new-session', '-d', '-s', 'bystander', 'sleep 600');
      await server.ok('set-hook', '-g', 'session-created', 'kill-session'); // kills each new session right after its invocation
      const res = await request(t.http).post('/runs').send(big).expect(502);
      expect(res.body).toMatchObject({
        code: 'TMUX_ERROR',
        details: { reason: 'session_vanished' },
      });
      expect(readdirSync(path.join(ws, 'sessions')).filter((n) => !n.startsWith('.'))).toEqual([]);
      expect(await server.sessionNames()).toEqual(['bystander']);
    } finally {
      await t.close();
      await server.stop();
      rmSync(path.dirname(ws), { recursive: true, force: true });
    }
  });
});

describe('hardening: a /runs whose rollback could not finish (e2e, real tmux)', () => {
  it('#12 answers 504 outcome unknown, not rolled_back, when the rollback itself timed out; the late session is kept and found by its key', async () => {
    const server = TmuxTestServer.create();
    const t = await createTestApp(server, {
      MAS_TMUX_TIMEOUT_MS: '600',
      MAS_TMUX_CONTROL: 'false',
    });
    await server.ok('new-session', '-d', '-s', 'work', 'sleep 600');
    const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
    const id = crypto.randomUUID();
    // the server stalls after the service listed it: the create and then the rollback time out
    jest.spyOn(crypto, 'randomUUID').mockImplementationOnce(() => {
      process.kill(pid, 'SIGSTOP');
      return id as ReturnType<typeof crypto.randomUUID>;
    });
    try {
      const res = await request(t.http)
        .post('/runs')
        .set('X-Request-Id', 'stalled')
        .set('Idempotency-Key', 'stalled-create')
        .send(small)
        .expect(504);
      expect(res.body).toMatchObject({ code: 'TMUX_TIMEOUT', details: { outcome: 'unknown' } });
      // attack finding 5: the server resumes and runs the queued create; the session is a workspace
      // session (its directory was kept), and a retry with the same key answers 201 with it
      process.kill(pid, 'SIGCONT');
      await waitFor(
        async () => (await server.sessionNames()).includes(`mas-${id.slice(0, 8)}`),
        10000,
      );
      expect(existsSync(path.join(t.workspace, 'sessions', id, '.session'))).toBe(true);
      const again = await request(t.http)
        .post('/runs')
        .set('Idempotency-Key', 'stalled-create')
        .send(small)
        .expect(201);
      expect(again.body.sessionId).toBe(id);
      await request(t.http).post(`/sessions/${id}/stop`).send({ force: true }).expect(200);
    } finally {
      process.kill(pid, 'SIGCONT');
      jest.restoreAllMocks();
      await t.close();
      await server.stop();
    }
  }, 20000);
});
