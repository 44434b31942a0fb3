import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { parseExposition, sumOf, valueOf, type Exposition } from './support/prom-text';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const TOKEN = 's3cret';

async function scrape(t: TestApp, token?: string): Promise<Exposition> {
  const req = request(t.http).get('/metrics');
  if (token) req.set('Authorization', `Bearer ${token}`);
  const res = await req.expect(200);
  return parseExposition(res.text);
}

/** A live MAS session of this workspace whose directory is gone: listed, source `tmux` (§5.1). */
async function handMade(server: TmuxTestServer, t: TestApp, short: string): Promise<void> {
  const name = `mas-${short}`;
  await server.ok('new-session', '-d', '-s', name, 'sleep 600');
  await server.ok(
    'set-option',
    '-t',
    name,
    '@mas_session_id',
    `${short}-0000-4000-8000-000000000001`,
  );
  await server.ok('set-option', '-t', name, '@mas_workspace', t.workspace);
}

const requests = (e: Exposition, route: string, method: string, status: string) =>
  valueOf(e, 'mas_http_requests_total', { route, method, status }) ?? 0;

describe('GET /metrics (e2e, §10.5)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server);
    // the listing has something to show (source tmux, inactive)
    await handMade(server, t, '0badc0de');
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('answers Prometheus text with the standard headers', async () => {
    const res = await request(t.http).get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const e = parseExposition(res.text);
    const families: [string, string][] = [
      ['mas_http_requests_total', 'counter'],
      ['mas_http_request_duration_seconds', 'histogram'],
      ['mas_tmux_calls_total', 'counter'],
      ['mas_tmux_call_duration_seconds', 'histogram'],
      ['mas_breaker_state', 'gauge'],
      ['mas_cache_requests_total', 'counter'],
      ['mas_sessions', 'gauge'],
      ['mas_agents', 'gauge'],
      ['mas_events_clients', 'gauge'],
      ['mas_events_dropped_total', 'counter'],
      ['mas_output_bytes_total', 'counter'],
    ];
    for (const [name, type] of families) expect([name, e.types.get(name)]).toEqual([name, type]);
    expect(valueOf(e, 'mas_breaker_state')).toBe(0);
    expect(valueOf(e, 'mas_events_clients')).toBe(0);
    expect(valueOf(e, 'mas_output_bytes_total')).toBe(0);
    expect(valueOf(e, 'mas_cache_requests_total', { result: 'hit' })).toBeGreaterThanOrEqual(0);
    expect(valueOf(e, 'mas_cache_requests_total', { result: 'miss' })).toBeGreaterThanOrEqual(0);
  });

  it("includes prom-client's default process metrics", async () => {
    const e = await scrape(t);
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect([name, e.types.has(name)]).toEqual([name, true]);
  });

  it('counts a 200 by route template and a 404 as unmatched, with durations', async () => {
    const before = await scrape(t);
    await request(t.http).get('/health').expect(200);
    await request(t.http).get('/no/such/route').expect(404);
    await request(t.http).get('/sessions//stop').expect(404);
    const after = await scrape(t);
    expect(requests(after, '/health', 'GET', '200')).toBe(
      requests(before, '/health', 'GET', '200') + 1,
    );
    expect(requests(after, 'unmatched', 'GET', '404')).toBe(
      requests(before, 'unmatched', 'GET', '404') + 2,
    );
    const count = (e: Exposition) =>
      valueOf(e, 'mas_http_request_duration_seconds_count', { route: '/health', method: 'GET' }) ??
      0;
    expect(count(after)).toBe(count(before) + 1);
    // no raw path ever becomes a label value
    expect(after.samples.some((s) => s.labels.route?.includes('no/such'))).toBe(false);
  });

  it('counts a path the router cannot decode (no hooks run) as unmatched', async () => {
    const before = await scrape(t);
    await request(t.http).get('/sessions/%zz').expect(400);
    const after = await scrape(t);
    expect(requests(after, 'unmatched', 'GET', '400')).toBe(
      requests(before, 'unmatched', 'GET', '400') + 1,
    );
  });

  it('counts a head Node cannot parse (answered before Fastify sees a request) as unmatched', async () => {
    const before = await scrape(t);
    const { port } = t.http.address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      let buf = '';
      const socket = connect(port, '127.0.0.1', () =>
        socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n'),
      );
      socket.on('data', (d) => (buf += d.toString()));
      socket.on('close', () => resolve(buf));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    const after = await scrape(t);
    expect(requests(after, 'unmatched', 'unknown', '400')).toBe(
      requests(before, 'unmatched', 'unknown', '400') + 1,
    );
  });

  it('counts the early gate and body refusals under their route: 403 Host, 413 body', async () => {
    const before = await scrape(t);
    await request(t.http).get('/sessions').set('Host', 'evil.example').expect(403);
    await request(t.http)
      .post('/runs')
      .set('Content-Type', 'application/json')
      .send(`{"agents":"${'x'.repeat(1024 * 1024 + 1)}"}`)
      .expect(413);
    const after = await scrape(t);
    expect(requests(after, '/sessions', 'GET', '403')).toBe(
      requests(before, '/sessions', 'GET', '403') + 1,
    );
    expect(requests(after, '/runs', 'POST', '413')).toBe(
      requests(before, '/runs', 'POST', '413') + 1,
    );
  });

  it('maps the /session alias to the canonical /sessions template', async () => {
    const before = await scrape(t);
    await request(t.http).get('/session').expect(200);
    await request(t.http).get('/session/mas-00000000').expect(404);
    const after = await scrape(t);
    expect(requests(after, '/sessions', 'GET', '200')).toBe(
      requests(before, '/sessions', 'GET', '200') + 1,
    );
    expect(requests(after, '/sessions/:sessionId', 'GET', '404')).toBe(
      requests(before, '/sessions/:sessionId', 'GET', '404') + 1,
    );
    expect(after.samples.some((s) => s.labels.route?.startsWith('/session/'))).toBe(false);
    expect(after.samples.some((s) => s.labels.route === '/session')).toBe(false);
  });

  it('counts the tmux call behind a list; session gauges follow the cached snapshot', async () => {
    const before = await scrape(t);
    await handMade(server, t, '0c0ffee0');
    // the listing shows it once the cache has expired: a miss, then list-panes in tmux
    await waitFor(async () => {
      const res = await request(t.http).get('/sessions').expect(200);
      return res.body.sessions.some(
        (s: { tmuxSession: string }) => s.tmuxSession === 'mas-0c0ffee0',
      );
    });
    const after = await scrape(t);
    const listed = (e: Exposition) =>
      sumOf(e, 'mas_tmux_calls_total', { command: 'list-panes', outcome: 'ok' });
    expect(listed(after)).toBeGreaterThan(listed(before));
    for (const s of after.samples.filter((x) => x.name === 'mas_tmux_calls_total')) {
      expect(['fork', 'control']).toContain(s.labels.path);
      expect(['ok', 'error', 'timeout']).toContain(s.labels.outcome);
    }
    expect(
      sumOf(after, 'mas_tmux_call_duration_seconds_count', { command: 'list-panes' }),
    ).toBeGreaterThan(
      sumOf(before, 'mas_tmux_call_duration_seconds_count', { command: 'list-panes' }),
    );
    // both hand-made sessions: live, no client attached; every status is present, 0 included
    expect(valueOf(after, 'mas_sessions', { status: 'inactive' })).toBe(2);
    for (const status of ['active', 'terminated', 'restoring'])
      expect(valueOf(after, 'mas_sessions', { status })).toBe(0);
    for (const s of after.samples.filter((x) => x.name === 'mas_agents'))
      expect(s.labels.activity).toBe('unknown');
  });

  it('a scrape reads the snapshot a list reads: none while it is fresh, one listing once it expired (A14c-2); hits and misses are counted', async () => {
    const listings = (e: Exposition) => sumOf(e, 'mas_tmux_calls_total', { command: 'list-panes' });
    const cache = (e: Exposition, result: string) =>
      valueOf(e, 'mas_cache_requests_total', { result }) ?? 0;
    await request(t.http).get('/sessions').expect(200);
    const warm = await scrape(t);
    const again = await scrape(t);
    expect(listings(again)).toBe(listings(warm)); // fresh: no tmux call
    await new Promise((r) => setTimeout(r, t.cfg.cacheTtlMs + 100)); // let the snapshot expire
    const expired = await scrape(t);
    expect(listings(expired)).toBe(listings(again) + 1); // retaken once, like a list would
    expect(cache(expired, 'miss')).toBe(cache(again, 'miss') + 1);
    // the retaken snapshot serves the next list: a hit, no listing
    await request(t.http).get('/sessions').expect(200);
    const hit = await scrape(t);
    expect(cache(hit, 'hit')).toBe(cache(expired, 'hit') + 1);
    expect(cache(hit, 'miss')).toBe(cache(expired, 'miss'));
    expect(listings(hit)).toBe(listings(expired));
  });
});

describe('GET /metrics: token, budget and one registry per app (e2e, §10.5)', () => {
  let server: TmuxTestServer;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    a = await createTestApp(server, { MAS_API_TOKEN: TOKEN, MAS_RATE_LIMIT_OTHER: '8' });
    b = await createTestApp(server);
  });

  afterAll(async () => {
    await a.close();
    await b.close();
    await server.stop();
  });

  it('needs the token in token mode, and counts the 401s it gives', async () => {
    const res = await request(a.http).get('/metrics').expect(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
    await request(a.http).get('/sessions').expect(401);
    const e = await scrape(a, TOKEN);
    expect(requests(e, '/metrics', 'GET', '401')).toBe(1);
    expect(requests(e, '/sessions', 'GET', '401')).toBe(1);
  });

  it('two apps in one process do not share counters', async () => {
    const before = await scrape(b);
    await request(a.http).get('/health').expect(200);
    await request(a.http).get('/health').expect(200);
    const after = await scrape(b);
    expect(requests(after, '/health', 'GET', '200')).toBe(
      requests(before, '/health', 'GET', '200'),
    );
    expect(requests(await scrape(a, TOKEN), '/health', 'GET', '200')).toBe(2);
  });

  it('spends the `other` budget, and a 429 is counted like any answer', async () => {
    // budget 8 per minute, partly spent above (/health is exempt): scrape until refused
    const scrapeA = () => request(a.http).get('/metrics').set('Authorization', `Bearer ${TOKEN}`);
    let res = await scrapeA();
    for (let i = 0; i < 10 && res.status === 200; i++) res = await scrapeA();
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('RATE_LIMITED');
    expect(res.headers['retry-after']).toBeDefined();
    // another route of the same budget is refused too: one bucket
    expect((await request(a.http).get('/').set('Authorization', `Bearer ${TOKEN}`)).status).toBe(
      429,
    );
    // b's budget is its own
    expect(requests(await scrape(b), '/metrics', 'GET', '429')).toBe(0);
  });
});
