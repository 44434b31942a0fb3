import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import request from 'supertest';
import { renderOpenApi } from '../src/bin/generate-openapi';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';

describe('transport, errors and OpenAPI (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server);
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('GET / lists every route; HEAD / answers without a body', async () => {
    const res = await request(t.http).get('/').expect(200);
    expect(res.body).toMatchObject({ name: 'MAS API Server', version: '2.2.0', status: 'running' });
    // derived from the router: every route of §2.1, once, without the /session aliases or docs assets
    expect([...res.body.endpoints].sort()).toEqual(
      [
        'HEAD /',
        'GET /',
        'GET /health',
        'GET /health/ready',
        'GET /openapi.json',
        'GET /api-docs',
        'GET /sessions',
        'GET /sessions/:sessionId',
        'GET /sessions/:sessionId/agents',
        'GET /sessions/:sessionId/agents/:agentId/output',
        'GET /sessions/:sessionId/agents/:agentId/screen',
        'POST /sessions/:sessionId/connect',
        'POST /sessions/:sessionId/stop',
        'POST /sessions/:sessionId/restore',
        'POST /runs',
        'POST /message',
        'GET /status',
        'GET /metrics',
        'GET /events',
      ].sort(),
    );
    const head = await request(t.http).head('/').expect(200);
    expect(head.text).toBeUndefined();
    expect(head.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('echoes a well-formed X-Request-Id and sets the security headers', async () => {
    const res = await request(t.http).get('/health').set('X-Request-Id', 'abc.123').expect(200);
    expect(res.headers['x-request-id']).toBe('abc.123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(
      (await request(t.http).get('/health').set('X-Request-Id', 'bad id!')).headers['x-request-id'],
    ).not.toBe('bad id!');
  });

  it('reports readiness with tmux, workspace and agent command checks', async () => {
    const res = await request(t.http).get('/health/ready').expect(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.tmux).toMatchObject({
      status: 'up',
      version: expect.stringMatching(/^tmux /),
    });
    expect(res.body.checks.workspace.status).toBe('up');
  });

  it('applies the CORS allow-list exactly', async () => {
    const ok = await request(t.http)
      .options('/sessions')
      .set('Origin', 'http://localhost:5173')
      .expect(204);
    expect(ok.headers['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(ok.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, OPTIONS');
    const bad = await request(t.http)
      .options('/sessions')
      .set('Origin', 'http://localhost:5173.evil.com')
      .expect(403);
    expect(bad.body.code).toBe('ORIGIN_NOT_ALLOWED');
    const post = await request(t.http)
      .post('/runs')
      .set('Origin', 'http://evil.com')
      .send({})
      .expect(403);
    expect(post.body.code).toBe('ORIGIN_NOT_ALLOWED');
    const get = await request(t.http).get('/health').set('Origin', 'http://evil.com').expect(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('refuses foreign Host headers on a loopback bind (DNS rebinding)', async () => {
    const res = await request(t.http).get('/health').set('Host', 'evil.example:8765').expect(403);
    expect(res.body.code).toBe('HOST_NOT_ALLOWED');
  });

  it('reads bodies strictly: 415, 400 INVALID_JSON, 413, forbidden keys, strict booleans', async () => {
    expect(
      (await request(t.http).post('/runs').set('Content-Type', 'text/plain').send('hi').expect(415))
        .body.code,
    ).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(
      (
        await request(t.http)
          .post('/runs')
          .set('Content-Type', 'application/json')
          .send('{bad')
          .expect(400)
      ).body.code,
    ).toBe('INVALID_JSON');
    expect(
      (
        await request(t.http)
          .post('/runs')
          .set('Content-Type', 'application/json')
          .send('[1]')
          .expect(400)
      ).body.code,
    ).toBe('VALIDATION_FAILED');
    const proto = await request(t.http)
      .post('/runs')
      .set('Content-Type', 'application/json')
      .send('{"agents":{"__proto__":{"x":1}}}')
      .expect(400);
    expect(proto.body.details.issues[0]).toMatchObject({
      rule: 'forbidden_key',
      field: 'agents.__proto__',
    });
    const deep = '{"a":'.repeat(40) + '1' + '}'.repeat(40);
    expect(
      (
        await request(t.http)
          .post('/runs')
          .set('Content-Type', 'application/json')
          .send(deep)
          .expect(400)
      ).body.details.issues[0].rule,
    ).toBe('depth');
    const big = await request(t.http)
      .post('/runs')
      .set('Content-Type', 'application/json')
      .send(`{"x":"${'a'.repeat(1024 * 1024)}"}`)
      .expect(413);
    expect(big.body.code).toBe('PAYLOAD_TOO_LARGE');
    const strict = await request(t.http)
      .post('/sessions/deadbeef/stop')
      .send({ force: 'true' })
      .expect(400);
    expect(strict.body.details.issues[0]).toMatchObject({ field: 'force', rule: 'type' });
    // a bodiless POST is {} (the parser never runs), whitespace is {} whatever its type
    expect((await request(t.http).post('/runs').expect(400)).body.details.issues[0]).toMatchObject({
      field: 'agents',
      rule: 'required',
    });
    expect(
      (
        await request(t.http)
          .post('/runs')
          .set('Content-Type', 'text/plain')
          .send('  \n')
          .expect(400)
      ).body.code,
    ).toBe('VALIDATION_FAILED');
  });

  it('answers a path Fastify cannot decode, or a long reference, in the one envelope (400, not 404 or 500)', async () => {
    const bad = await request(t.http).get('/sessions/%E0%A4%A').expect(400);
    expect(bad.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ location: 'path', rule: 'pattern' }] },
    });
    const long = await request(t.http)
      .get(`/sessions/${'a'.repeat(1500)}`)
      .expect(400);
    expect(long.body.details.issues[0]).toMatchObject({ location: 'path', field: 'sessionId' });
  });

  it('serves the committed OpenAPI document, and the committed file is in sync', async () => {
    const committed = readFileSync(path.join(__dirname, '..', 'openapi.yaml'), 'utf8');
    expect(await renderOpenApi()).toBe(committed);
    const served = (await request(t.http).get('/openapi.json').expect(200)).body;
    expect(served).toEqual(yaml.load(committed));
    expect(served.info.version).toBe('2.2.0');
    expect(served.paths['/sessions'].get.operationId).toBe('listSessions');
    expect(served.tags.map((x: { name: string }) => x.name)).toContain('Sessions');
    const html = await request(t.http).get('/api-docs').expect(200);
    expect(html.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('token mode (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_API_TOKEN: 's3cret' });
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('requires the bearer token everywhere but /, /health and /health/ready', async () => {
    await request(t.http).get('/health').expect(200);
    await request(t.http).head('/').expect(200);
    expect((await request(t.http).get('/sessions').expect(401)).body.code).toBe('UNAUTHORIZED');
    await request(t.http).get('/openapi.json').expect(401);
    await request(t.http).get('/sessions').set('Authorization', 'Bearer wrong').expect(401);
    await request(t.http).get('/sessions').set('Authorization', 'Bearer s3cret').expect(200);
  });
});

describe('rate limits (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_RATE_LIMIT_RUNS: '2', MAS_RATE_LIMIT_OTHER: '3' });
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('answers 429 RATE_LIMITED with Retry-After per budget; health is exempt', async () => {
    for (let i = 0; i < 3; i++) await request(t.http).get('/sessions').expect(200);
    const res = await request(t.http).get('/sessions').expect(429);
    expect(res.body.code).toBe('RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 1100));
    const later = await request(t.http).get('/sessions').expect(429);
    expect(Number(later.headers['retry-after'])).toBeLessThan(60); // what is left of the block, not a constant
    for (let i = 0; i < 5; i++) await request(t.http).get('/health').expect(200);
    await request(t.http).post('/runs').send({}).expect(400); // its own budget, untouched by the reads
  });
});
