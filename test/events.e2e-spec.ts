import request from 'supertest';
import { EventBus } from '../src/core/event-bus';
import { createTestApp, type TestApp } from './support/create-test-app';
import { startService } from './support/service-process';
import { SseClient, type SseEvent } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/** 00 and unit 1 (10, 11): small enough to create quickly, with prompts for startup events. */
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};

type Created = { sessionId: string; shortId: string; tmuxSession: string };

describe('GET /events (e2e, real tmux, §10.3, §10.6)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  const clients: SseClient[] = [];
  const open = async (path = '/events', headers: Record<string, string> = {}, app = t) => {
    const c = await SseClient.open(app.http, path, headers);
    clients.push(c);
    return c;
  };
  const create = async () =>
    (await request(t.http).post('/runs').send(TEAM).expect(201)).body as Created;
  const sessionEvent = (id: string, status: string) => (e: SseEvent) =>
    e.event === 'session' && e.data.sessionId === id && e.data.status === status;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_PROMPT_DELAY_MS: '200',
      MAS_AGENT_LAUNCH_CHECK_MS: '100',
    });
  }, 30000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('the stream carries the standard headers, as text/event-stream', async () => {
    const c = await open();
    expect(c.status).toBe(200);
    expect(c.res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(c.res.headers['x-request-id']).toMatch(/.+/);
    expect(c.res.headers['x-content-type-options']).toBe('nosniff');
    expect(c.res.headers['cache-control']).toBe('no-store');
  });

  it('create: session, agent and startup events, startup ending ready', async () => {
    const c = await open('/events?types=session,agent,startup');
    const s = await create();
    await c.next(sessionEvent(s.sessionId, 'inactive'));
    const created = c.of('session').find(sessionEvent(s.sessionId, 'inactive'))!;
    expect(created.data).toMatchObject({ tmuxSession: s.tmuxSession, previous: null });
    expect(created.id).toMatch(/^[0-9a-f]{8}-[0-9]+$/);
    await waitFor(() => c.of('agent').filter((e) => e.data.sessionId === s.sessionId).length >= 3);
    // the fake agent prints nothing: not observed yet (unknown), then idle (§10.4)
    for (const a of c.of('agent').filter((e) => e.data.sessionId === s.sessionId))
      expect(a.data).toMatchObject({
        status: 'running',
        activity: expect.stringMatching(/^(unknown|idle)$/),
      });
    const ready = await c.next(
      (e) => e.event === 'startup' && e.data.sessionId === s.sessionId && e.data.state === 'ready',
      15000,
    );
    expect(ready.data.prompts).toHaveLength(3);
    const states = c.of('startup').map((e) => e.data.state);
    expect(states[0]).toBe('starting');
    // ids are monotonic within the process
    const seqs = c.events.map((e) => Number(e.id!.split('-')[1]));
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  }, 30000);

  it('message: one message event with the request id and the receipts', async () => {
    const s = await create();
    await waitFor(async () => {
      const r = await request(t.http).get(`/sessions/${s.sessionId}`);
      return r.body.startup?.state === 'ready';
    }, 15000);
    const c = await open(`/events?sessionId=${s.shortId}&types=message`);
    const res = await request(t.http)
      .post('/message')
      .send({ session: s.shortId, target: '10', message: 'hi' })
      .expect(200);
    const e = await c.next((x) => x.event === 'message');
    expect(e.data).toEqual({
      sessionId: s.sessionId,
      requestId: res.headers['x-request-id'],
      receipts: res.body.receipts,
    });
  }, 30000);

  it('stop: a session event terminated', async () => {
    const c = await open('/events?types=session');
    const s = await create();
    await c.next(sessionEvent(s.sessionId, 'inactive'));
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    const e = await c.next(sessionEvent(s.sessionId, 'terminated'));
    expect(e.data.previous).toBe('inactive');
  }, 30000);

  it('an agent exiting outside the service: an agent event within 2 s', async () => {
    const c = await open('/events?types=agent');
    const s = await create();
    const mine = (x: SseEvent) => x.data.sessionId === s.sessionId && x.data.agentId === '11';
    await c.next((x) => mine(x) && x.data.status === 'running'); // seen running first
    const line = (
      await server.ok(
        'list-panes',
        '-s',
        '-t',
        `=${s.tmuxSession}`,
        '-F',
        '#{pane_pid} #{@mas_agent_id}',
      )
    )
      .split('\n')
      .find((l) => l.endsWith(' 11'))!;
    const t0 = Date.now();
    process.kill(Number(line.split(' ')[0]), 'SIGKILL');
    const e = await c.next((x) => mine(x) && x.data.status !== 'running', 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.data).toMatchObject({ previous: 'running', activity: 'unknown' });
  }, 30000);

  it('a session killed with tmux kill-session from outside: session terminated within 2 s', async () => {
    const c = await open('/events?types=session');
    const s = await create();
    await c.next(sessionEvent(s.sessionId, 'inactive')); // seen alive first
    const t0 = Date.now();
    await server.ok('kill-session', '-t', `=${s.tmuxSession}`);
    const e = await c.next(sessionEvent(s.sessionId, 'terminated'), 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.data.previous).toBe('inactive');
  }, 30000);

  it('a session created by hand (the shell tooling) is seen within 2 s', async () => {
    const c = await open('/events?types=session');
    const s = await create();
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    await c.next(sessionEvent(s.sessionId, 'terminated')); // seen stopped first
    const seen = c.events.length;
    const t0 = Date.now();
    await server.ok('new-session', '-d', '-s', s.tmuxSession);
    const e = await c.next(
      (x) => c.events.indexOf(x) >= seen && sessionEvent(s.sessionId, 'inactive')(x),
      5000,
    );
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.data.previous).toBe('terminated');
  }, 30000);

  it('resume with Last-Event-ID delivers exactly the missed events', async () => {
    const bus = t.app.get(EventBus);
    const s = await create();
    const witness = await open('/events?types=session,agent,startup,message');
    const a = await open('/events?types=session,agent,startup,message');
    const mark = bus.publish(
      'message',
      { sessionId: s.sessionId, requestId: 'mark', receipts: [] },
      s.sessionId,
    );
    await a.next((e) => e.data.requestId === 'mark');
    a.close();
    for (const n of [1, 2, 3])
      bus.publish(
        'message',
        { sessionId: s.sessionId, requestId: `missed-${n}`, receipts: [] },
        s.sessionId,
      );
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    await witness.next(sessionEvent(s.sessionId, 'terminated'));
    const b = await open('/events', { 'Last-Event-ID': `${bus.epoch}-${mark.seq}` });
    const after = (c: SseClient) => c.events.filter((e) => Number(e.id!.split('-')[1]) > mark.seq);
    await waitFor(() => after(b).length >= after(witness).length);
    expect(after(b)).toEqual(after(witness));
    // agent events (an activity change, say) may come between them: the messages are in order
    expect(
      after(b)
        .filter((e) => e.event === 'message')
        .map((e) => e.data.requestId)
        .slice(0, 3),
    ).toEqual(['missed-1', 'missed-2', 'missed-3']);
    expect(b.of('gap')).toEqual([]);
  }, 30000);

  it('Last-Event-ID of another process (unknown epoch) gives gap restarted, then live events', async () => {
    const c = await open('/events', { 'Last-Event-ID': '00000000-5' });
    const gap = await c.next((e) => e.event === 'gap');
    expect(gap.data).toMatchObject({ reason: 'restarted' });
    const d = await open('/events', { 'Last-Event-ID': 'garbage' });
    expect((await d.next((e) => e.event === 'gap')).data.reason).toBe('restarted');
    t.app.get(EventBus).publish('message', { sessionId: 'x', requestId: 'live', receipts: [] });
    await c.next((e) => e.data.requestId === 'live');
  });

  it('a resume point older than the ring gives gap expired', async () => {
    const bus = t.app.get(EventBus);
    const first = bus.publish('message', { sessionId: 'x', requestId: 'old', receipts: [] });
    for (let i = 0; i < 10_001; i++) bus.publish('agent', { sessionId: 'x', n: i }, 'x');
    const c = await open('/events?types=message', { 'Last-Event-ID': `${bus.epoch}-${first.seq}` });
    expect((await c.next((e) => e.event === 'gap')).data.reason).toBe('expired');
  });

  it('a client that never reads is disconnected, its queue bounded (slow_consumer)', async () => {
    const bus = t.app.get(EventBus);
    const c = await SseClient.open(t.http, '/events?types=agent', {}, { paused: true });
    clients.push(c);
    await waitFor(() => bus.subscribers >= 1);
    const before = bus.subscribers;
    const pad = 'x'.repeat(900);
    const rss0 = process.memoryUsage().rss;
    // ~45 MB offered: far beyond socket buffers plus the 256 KiB queue cap
    for (let i = 0; i < 50_000 && bus.subscribers >= before; i++)
      bus.publish('agent', { sessionId: 'slow', pad, i }, 'slow');
    await waitFor(() => bus.subscribers === before - 1, 5000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);
    const metrics = (await request(t.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/mas_events_dropped_total\{reason="slow_consumer"\} [1-9]/);
  }, 30000);

  it('a stream that ended is counted in mas_http_requests_total like any answer', async () => {
    const count = async () => {
      const m = (await request(t.http).get('/metrics').expect(200)).text;
      const line =
        /^mas_http_requests_total\{route="\/events",method="GET",status="200"\} (\d+)$/m.exec(m);
      return line ? Number(line[1]) : 0;
    };
    const before = await count();
    const c = await open('/events');
    c.close();
    await waitFor(async () => (await count()) === before + 1);
  });

  it('400 for bad types or sessionId, 404 for an unknown session', async () => {
    let r = await request(t.http).get('/events?types=session,bogus').expect(400);
    expect(r.body.details.issues[0]).toMatchObject({
      location: 'query',
      field: 'types',
      rule: 'enum',
    });
    r = await request(t.http).get('/events?sessionId=not_a_ref!').expect(400);
    expect(r.body.details.issues[0]).toMatchObject({ field: 'sessionId' });
    r = await request(t.http).get('/events?sessionId=abcdef12').expect(404);
    expect(r.body.code).toBe('SESSION_NOT_FOUND');
    const ok = await open('/events?types=output');
    expect(ok.status).toBe(200);
  });

  it('CORS: a disallowed Origin is refused before a stream opens; preflight allows Last-Event-ID', async () => {
    const r = await request(t.http).get('/events').set('Origin', 'http://evil.example').expect(403);
    expect(r.body.code).toBe('ORIGIN_NOT_ALLOWED');
    const p = await request(t.http)
      .options('/events')
      .set('Origin', 'http://localhost:5173')
      .set('Access-Control-Request-Method', 'GET')
      .expect(204);
    expect(p.headers['access-control-allow-headers']).toMatch(/Last-Event-ID/);
    const c = await open('/events', { Origin: 'http://localhost:5173' });
    expect(c.status).toBe(200);
    expect(c.res.headers['access-control-allow-origin']).toBe('http://localhost:5173');
  });

  describe('with a token and two clients at most', () => {
    let t2: TestApp;
    beforeAll(async () => {
      t2 = await createTestApp(server, {
        MAS_API_TOKEN: 'sekret-token-1',
        MAS_EVENTS_MAX_CLIENTS: '2',
      });
    });
    afterAll(() => t2.close());
    const auth = { Authorization: 'Bearer sekret-token-1' };

    it('the token travels in Authorization only', async () => {
      await request(t2.http).get('/events').expect(401);
      await request(t2.http).get('/events?token=sekret-token-1').expect(401);
      await request(t2.http).get('/events?access_token=sekret-token-1').expect(401);
      const c = await open('/events', auth, t2);
      expect(c.status).toBe(200);
    });

    it('the client beyond MAS_EVENTS_MAX_CLIENTS gets 503 STREAM_LIMIT with Retry-After', async () => {
      const bus = t2.app.get(EventBus);
      const a = await open('/events', auth, t2);
      await open('/events', auth, t2);
      const r = await request(t2.http).get('/events').set(auth).expect(503);
      expect(r.body.code).toBe('STREAM_LIMIT');
      expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      a.close();
      await waitFor(() => bus.subscribers === 1);
      expect((await open('/events', auth, t2)).status).toBe(200);
      const m = (await request(t2.http).get('/metrics').set(auth).expect(200)).text;
      expect(m).toMatch(/^mas_events_clients 2$/m);
    });
  });

  it('with the default MAS_EVENTS_MAX_CLIENTS, 64 streams open and the 65th gets 503 STREAM_LIMIT', async () => {
    const bus = t.app.get(EventBus);
    const opened = await Promise.all(Array.from({ length: 64 }, () => open()));
    expect(opened.map((c) => c.status)).toEqual(Array(64).fill(200));
    const r = await request(t.http).get('/events').expect(503);
    expect(r.body.code).toBe('STREAM_LIMIT');
    for (const c of opened) c.close();
    await waitFor(() => bus.subscribers === 0);
  });

  it('opening a stream spends one request of the other budget', async () => {
    const t4 = await createTestApp(server, { MAS_RATE_LIMIT_OTHER: '3' });
    try {
      for (let i = 0; i < 3; i++) expect((await open('/events', {}, t4)).status).toBe(200);
      const r = await request(t4.http).get('/events').expect(429);
      expect(r.body.code).toBe('RATE_LIMITED');
    } finally {
      for (const c of clients.splice(0)) c.close();
      await t4.close();
    }
  });

  it('app close ends every stream with a final gap shutdown (A12)', async () => {
    const t3 = await createTestApp(server);
    const c = await SseClient.open(t3.http, '/events');
    await t3.close();
    await waitFor(() => c.ended);
    expect(c.events.at(-1)).toMatchObject({ event: 'gap', data: { reason: 'shutdown' } });
  });

  it('A12: SIGTERM ends every stream at once with gap shutdown, and the process exits without waiting the 7 s drain', async () => {
    const svc = await startService({
      MAS_TMUX_SOCKET: server.socket,
      MAS_TMUX_CONFIG: server.config,
      MAS_WORKSPACE_ROOT: t.workspace,
    });
    try {
      const c = await SseClient.open(svc.port, '/events');
      clients.push(c);
      expect(c.status).toBe(200);
      const termAt = Date.now();
      svc.proc.kill('SIGTERM');
      await waitFor(() => c.ended, 5000);
      expect(c.events.at(-1)).toMatchObject({ event: 'gap', data: { reason: 'shutdown' } });
      await svc.exited;
      expect(Date.now() - termAt).toBeLessThan(5000);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
