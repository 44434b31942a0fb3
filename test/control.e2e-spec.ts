import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import type { TmuxTestServer } from './support/tmux-server';
import { type ReadyTeam, standardTeam, STANDARD_IDS, startReadyTeam } from './support/team';
import { waitFor } from './support/wait-for';
import { writeSessionDir } from './support/workspace-fixture';

const TEAM = STANDARD_IDS;
const team = standardTeam();

/** Decision 0006: writes go over one control-mode client; nothing a user sees may change. */
describe('control-mode client for writes (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let a: { sessionId: string; tmuxSession: string };
  const received = (s: { sessionId: string }, id: string) => {
    const f = path.join(t.workspace, 'sessions', s.sessionId, 'unit', id, 'received.bin');
    return existsSync(f) ? readFileSync(f, 'utf8') : '';
  };
  // transcript capture clients (§10.2) are the service's too, but not this spec's subject
  const clients = async () =>
    (
      await server
        .ok('list-clients', '-F', '#{client_pid} #{session_name} #{client_control_mode}')
        .catch(() => '')
    )
      .trim()
      .split('\n')
      .filter((l) => !t.gateway.captureNames.has(`client-${l.split(' ')[0]}`))
      .join('\n');

  let fixture: ReadyTeam;
  beforeAll(async () => {
    fixture = await startReadyTeam();
    ({ server, t, session: a } = fixture);
  }, 30000);

  afterAll(() => fixture.close());

  it('delivers to 13 agents with one forked client (load-buffer), the rest as lines on one control client', async () => {
    await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '00', message: 'the client attaches to type' })
      .expect(200);
    const forks = t.gateway.calls;
    const starts = t.gateway.control!.starts;
    const res = await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: 'all', message: 'to everyone' })
      .expect(200);
    expect(res.body).toMatchObject({ status: 'acknowledged', delivered: 13 });
    for (const id of TEAM) await waitFor(() => received(a, id).endsWith('to everyone\r'));
    expect(t.gateway.calls - forks).toBe(1); // load-buffer: the text travels on stdin (§7.6)
    expect(t.gateway.control!.starts - starts).toBeLessThanOrEqual(1);
  });

  it('loads the text while it re-reads the session, and deletes an unused buffer (404: no such agent in the roster)', async () => {
    const buffers = async () =>
      (await server.ok('list-buffers', '-F', '#{buffer_name}').catch(() => ''))
        .split('\n')
        .filter((b) => b.startsWith('mas-'));
    const res = await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: 'agent-14', message: 'nobody' });
    expect(res.body.code).toBe('TARGET_NOT_FOUND');
    await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: 'all', message: 'whole team' })
      .expect(200);
    await waitFor(async () => (await buffers()).length === 0);
  });

  it('with MAS_TMUX_CONTROL=false every write forks and no control client ever starts', async () => {
    const off = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: t.workspace,
      MAS_TMUX_CONTROL: 'false',
    });
    try {
      const forks = off.gateway.calls;
      await request(off.http)
        .post('/message')
        .send({ session: a.tmuxSession, target: 'all', message: 'forked' })
        .expect(200);
      for (const id of TEAM) await waitFor(() => received(a, id).endsWith('forked\r'));
      expect(off.gateway.control).toBeUndefined();
      expect(off.gateway.calls - forks).toBeGreaterThanOrEqual(16); // listing, load, paste chain, delete, 13 Enters
    } finally {
      await off.close();
    }
  });

  it('names its session from an older snapshot only when that says live; the lock-held re-read decides', async () => {
    await request(t.http).get('/sessions').expect(200); // the snapshot messages may reuse
    const id = writeSessionDir(t.workspace, { units: ['10'] });
    const name = `mas-${id.slice(0, 8)}`;
    await server.ok('new-session', '-d', '-s', name, '-n', 'design', 'sleep 600');
    // born after that snapshot, which is then past its TTL but young enough to be peeked: the miss
    // must go to a current snapshot, not answer 404
    await new Promise((r) => setTimeout(r, t.cfg.cacheTtlMs + 100));
    t.gateway.control!.close(); // no client runs: the re-read must not start one here
    const born = await request(t.http)
      .post('/message')
      .send({ session: name, target: '10', message: 'hi' });
    expect(born.body.code).not.toBe('SESSION_NOT_FOUND');
    // nothing was typed, so no write client attached: an attach would count as activity (§5.6).
    // The transcript capture client does attach (§10.2: a session made live outside the service is
    // captured, decision 0008); it is not the write client.
    const attached = (
      await server.ok('display-message', '-p', '-t', `=${name}:`, '#{session_attached_list}')
    ).trim();
    expect(attached.split(',').filter((c) => c && !t.gateway.captureNames.has(c))).toEqual([]);
    await request(t.http).get('/sessions').expect(200);
    await server.ok('kill-session', '-t', `=${name}`);
    // killed after this one: the snapshot still says live, the re-read under the lock does not
    const gone = await request(t.http)
      .post('/message')
      .send({ session: name, target: '10', message: 'hi' })
      .expect(409);
    expect(gone.body.code).toBe('SESSION_TERMINATED');
  });

  it('a create while a control client runs forks nothing in its synchronous phase, and the layout is whole', async () => {
    await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '13', message: 'keep the client up' })
      .expect(200);
    expect(t.gateway.control!.up).toBe(true);
    const forks = t.gateway.calls;
    const c = (await request(t.http).post('/runs').send(team).expect(201)).body;
    expect(t.gateway.calls - forks).toBe(0); // list-sessions, the layout and its listing were lines
    const detail = (await request(t.http).get(`/sessions/${c.sessionId}`).expect(200)).body;
    expect(detail.agents.map((x: { agentId: string }) => x.agentId)).toEqual(TEAM);
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${c.sessionId}`)).body.startup?.state === 'ready',
      15000,
    );
    await request(t.http).post(`/sessions/${c.sessionId}/stop`).send({ force: true }).expect(200);
  }, 30000);

  it('does not count its own client as attached: status and attachedClients stay as users left them', async () => {
    await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '10', message: 'x' })
      .expect(200);
    expect(await clients()).toMatch(new RegExp(`^\\d+ ${a.tmuxSession} 1$`));
    const one = (await request(t.http).get(`/sessions/${a.sessionId}`).expect(200)).body;
    expect(one).toMatchObject({ status: 'inactive', attachedClients: 0 });
    const list = (await request(t.http).get('/sessions').expect(200)).body.sessions.find(
      (s: { sessionId: string }) => s.sessionId === a.sessionId,
    );
    expect(list).toMatchObject({ status: 'inactive', attachedClients: 0 });
  });

  it('quotes every argument so tmux takes it literally, and forks what a line cannot carry', async () => {
    const tricky = `it's a "test"; #{session_name} #(id) $HOME ~ \\x {a} 漢字 end;`;
    const r = await t.gateway.control!.run(
      [['set-option', '-t', `=${a.tmuxSession}:`, '@probe', tricky]],
      `=${a.tmuxSession}`,
    );
    expect(r?.exitCode).toBe(0);
    expect(await server.ok('show-options', '-v', '-t', `=${a.tmuxSession}:`, '@probe')).toBe(
      `${tricky}\n`,
    );
    expect(
      await t.gateway.control!.run([['set-option', '-t', `=${a.tmuxSession}:`, '@probe', 'a\nb']]),
    ).toBeNull();
  });

  it('a control client killed from outside is replaced; the next message is delivered', async () => {
    await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '11', message: 'before' })
      .expect(200);
    const pid = Number((await clients()).split(' ')[0]);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => (await clients()) === '');
    const res = await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '11', message: 'after kill' })
      .expect(200);
    expect(res.body.delivered).toBe(1);
    await waitFor(() => received(a, '11').endsWith('after kill\r'));
  });

  it('stopping the session the client sits in answers 200; the client leaves first and later writes start anew', async () => {
    const b = (await request(t.http).post('/runs').send(team).expect(201)).body;
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${b.sessionId}`)).body.startup?.state === 'ready',
      15000,
    );
    await request(t.http)
      .post('/message')
      .send({ session: b.tmuxSession, target: '20', message: 'b' })
      .expect(200);
    await request(t.http).post(`/sessions/${b.sessionId}/stop`).send({ force: true }).expect(200);
    expect(await server.sessionNames()).not.toContain(b.tmuxSession);
    const res = await request(t.http)
      .post('/message')
      .send({ session: a.tmuxSession, target: '20', message: 'after stop' })
      .expect(200);
    expect(res.body.delivered).toBe(1);
    await waitFor(() => received(a, '20').endsWith('after stop\r'));
  }, 30000);

  it('a stalled server mid-message: 504, nothing typed twice; once it resumes, writes work again', async () => {
    const quick = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: t.workspace,
      MAS_TMUX_TIMEOUT_MS: '800',
    });
    try {
      await request(quick.http)
        .post('/message')
        .send({ session: a.tmuxSession, target: '21', message: 'warm' })
        .expect(200);
      expect(quick.gateway.control!.up).toBe(true);
      const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
      process.kill(pid, 'SIGSTOP');
      let stalled: request.Response;
      try {
        stalled = await request(quick.http)
          .post('/message')
          .send({ session: a.tmuxSession, target: '21', message: 'stalled' });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(stalled.status).toBe(504);
      expect(stalled.body.code).toBe('TMUX_TIMEOUT');
      const res = await request(quick.http)
        .post('/message')
        .send({ session: a.tmuxSession, target: '21', message: 'resumed' })
        .expect(200);
      expect(res.body.delivered).toBe(1);
      await waitFor(() => received(a, '21').endsWith('resumed\r'));
      expect(received(a, '21').split('stalled').length - 1).toBeLessThanOrEqual(1); // never retried (T-51)
    } finally {
      await quick.close();
    }
  }, 30000);

  it('leaves no control client behind on shutdown, and lets the session count only real clients again', async () => {
    const other = await createTestApp(server, { MAS_WORKSPACE_ROOT: t.workspace });
    let name = '';
    try {
      await request(other.http)
        .post('/message')
        .send({ session: a.tmuxSession, target: '12', message: 'from another instance' })
        .expect(200);
      name = other.gateway.control!.clientName!;
      expect(
        await server.ok(
          'display-message',
          '-p',
          '-t',
          `=${a.tmuxSession}:`,
          '#{session_attached_list}',
        ),
      ).toContain(name);
    } finally {
      await other.close();
    }
    await waitFor(
      async () =>
        !(
          await server.ok(
            'display-message',
            '-p',
            '-t',
            `=${a.tmuxSession}:`,
            '#{session_attached_list}',
          )
        )
          .split(',')
          .includes(name.trim()),
    );
    // detached first (the server forgets it), then the process exits: wait for both
    await waitFor(() => !existsSync(`/proc/${name.slice('client-'.length)}`));
  });
});
