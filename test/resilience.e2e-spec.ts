import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const small = {
  agents: {
    units: [
      { unitId: 1, manager: { id: '10', prompt: 'lead' }, workers: [{ id: '11', prompt: 'work' }] },
    ],
  },
};

describe('resilience with a real tmux server (e2e)', () => {
  let server: TmuxTestServer;

  beforeEach(() => {
    server = TmuxTestServer.create();
  });

  afterEach(async () => {
    await server.stop();
  });

  it('opt-in EOF convention: after execute, EOF and Enter follow once; never without execute', async () => {
    const t = await createTestApp(server, {
      MAS_SEND_EOF: 'true',
      MAS_EOF_DELAY_MS: '200',
      MAS_PROMPT_DELAY_MS: '100',
    });
    try {
      const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
      await waitFor(
        async () =>
          (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.state === 'ready',
      );
      const file = path.join(t.workspace, 'sessions', s.sessionId, 'unit', '10', 'received.bin');
      await waitFor(() => readFileSync(file, 'utf8') === 'lead\rEOF\r'); // the prompt gets its EOF too
      const mark = readFileSync(file, 'utf8').length;
      await request(t.http)
        .post('/message')
        .send({ session: s.tmuxSession, target: '10', message: 'draft', execute: false })
        .expect(200);
      await request(t.http)
        .post('/message')
        .send({ session: s.tmuxSession, target: '10', message: 'go' })
        .expect(200);
      await waitFor(() => readFileSync(file, 'utf8').slice(mark) === 'draftgo\rEOF\r');
    } finally {
      await t.close();
    }
  });

  it('answers 409 SESSION_STARTING with Retry-After while prompts are pending', async () => {
    const t = await createTestApp(server, { MAS_PROMPT_DELAY_MS: '60000' });
    try {
      const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
      const res = await request(t.http)
        .post('/message')
        .send({ session: s.tmuxSession, target: 'all', message: 'x' })
        .expect(409);
      expect(res.body.code).toBe('SESSION_STARTING');
      expect(res.headers['retry-after']).toBeDefined();
      const stopped = (
        await request(t.http)
          .post(`/sessions/${s.sessionId}/stop`)
          .send({ force: true })
          .expect(200)
      ).body;
      expect(stopped.alreadyStopped).toBe(false);
      expect((await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup.state).toBe(
        'cancelled',
      );
    } finally {
      await t.close();
    }
  });

  it('rolls a restore back with 502 AGENT_START_FAILED when every agent dies at once', async () => {
    const ws = realpathSync(mkdtempSync('/tmp/mw-'));
    const t = await createTestApp(server, { MAS_WORKSPACE_ROOT: ws });
    const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    await t.close();
    const dying = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: ws,
      MAS_AGENT_COMMAND: 'false',
    });
    try {
      const res = await request(dying.http)
        .post(`/sessions/${s.sessionId}/restore`)
        .send({ startAgents: true })
        .expect(502);
      expect(res.body).toMatchObject({
        code: 'AGENT_START_FAILED',
        details: {
          agents: [
            { agentId: '10', exitStatus: 1 },
            { agentId: '11', exitStatus: 1 },
          ],
        },
      });
      expect(await server.sessionNames()).not.toContain(s.tmuxSession);
      const index = JSON.parse(
        readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8'),
      );
      expect(
        index.sessions.find((e: { sessionId: string }) => e.sessionId === s.sessionId).status,
      ).toBe('stopped');
      expect(
        (await request(dying.http).get(`/sessions/${s.sessionId}`).expect(200)).body,
      ).toMatchObject({ status: 'terminated', restorable: true });
    } finally {
      await dying.close();
      rmSync(ws, { recursive: true, force: true });
    }
  });

  it('passes only allow-listed variables into panes: no token, no unlisted secret', async () => {
    const t = await createTestApp(server, {
      MAS_API_TOKEN: 'tok-123',
      SECRET_KEY: 'do-not-leak',
      AGENT_KEY: 'for-agents',
      MAS_AGENT_ENV_PASSTHROUGH: 'AGENT_KEY',
    });
    try {
      const s = (
        await request(t.http)
          .post('/runs')
          .set('Authorization', 'Bearer tok-123')
          .send(small)
          .expect(201)
      ).body;
      const pid = Number(
        (
          await server.ok('display-message', '-p', '-t', `=${s.tmuxSession}:2.0`, '#{pane_pid}')
        ).trim(),
      );
      // the agent replaced its shell wrapper with cat (exec): read the pane process's own environment
      const env = await waitFor(() => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'));
      expect(env).toContain('AGENT_KEY=for-agents');
      expect(env).toContain('MAS_AGENT_ID=10');
      expect(env).toContain(`MAS_SESSION_NAME=${s.tmuxSession}`);
      expect(env.join('\n')).not.toMatch(/do-not-leak|tok-123|MAS_API_TOKEN/);
      expect(await server.ok('show-environment', '-g')).not.toMatch(/do-not-leak|tok-123/);
    } finally {
      await t.close();
    }
  });

  it('answers within the deadline when the server is killed in the middle of a request', async () => {
    const t = await createTestApp(server, { MAS_TMUX_TIMEOUT_MS: '3000', MAS_CACHE_TTL_MS: '0' });
    try {
      await server.ok('new-session', '-d', '-s', 'victim', 'sleep 600');
      const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
      process.kill(pid, 'SIGSTOP'); // holds the request inside tmux
      const started = Date.now();
      const pending = request(t.http).get('/sessions');
      setTimeout(() => process.kill(pid, 'SIGKILL'), 300);
      const res = await pending;
      expect(Date.now() - started).toBeLessThan(6000);
      // either the retry found no server (200, nothing live) or the call was cut off (5xx with a code)
      if (res.status === 200) expect(res.body.sessions).toEqual([]);
      else expect(['TMUX_UNAVAILABLE', 'TMUX_TIMEOUT', 'TMUX_ERROR']).toContain(res.body.code);
      await request(t.http).get('/sessions').expect(200);
    } finally {
      await t.close();
    }
  });
});
