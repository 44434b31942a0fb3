import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import { ConfigError } from '../src/config/mas-config';
import { parseEnv } from '../src/config/parse-env';
import { createTestApp, FAKE_AGENT, type TestApp } from './support/create-test-app';
import { startService } from './support/service-process';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/** Issue 12, HTTP edge findings: each test is named after its finding. */

/** A raw connection to a listening app, so tests see exactly what the server does with it. */
interface Conn {
  socket: Socket;
  data(): string;
  closed: Promise<number>;
}

function open(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = '';
    socket.on('data', (d) => (buf += d.toString()));
    socket.on('error', () => undefined); // a reset is a close, which `closed` reports
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now())));
    socket.once('connect', () => resolve({ socket, data: () => buf, closed }));
    socket.once('error', reject);
  });
}

const GET = (p: string) => `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n`;
const answers = (c: Conn, n: number) =>
  waitFor(() => c.data().split('HTTP/1.1 200').length - 1 >= n, 10_000);
const jsonOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4));
const portOf = (t: TestApp) => ((t.http as Server).address() as { port: number }).port;

describe('issue 12 HTTP findings on one app (e2e)', () => {
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

  it('#16 A14: a reference longer than 36 characters is 400 rule length (2049+ characters too, never 404)', async () => {
    for (const n of [37, 2049, 9000]) {
      const res = await request(t.http)
        .get(`/sessions/${'a'.repeat(n)}`)
        .expect(400);
      expect(res.body.details.issues[0]).toMatchObject({
        location: 'path',
        field: 'sessionId',
        rule: 'length',
      });
    }
    await request(t.http)
      .post(`/sessions/${'b'.repeat(3000)}/stop`)
      .expect(400);
    const q = await request(t.http)
      .get(`/status?sessionId=${'c'.repeat(40)}`)
      .expect(400);
    expect(q.body.details.issues[0]).toMatchObject({
      location: 'query',
      field: 'sessionId',
      rule: 'length',
    });
    const b = await request(t.http)
      .post('/message')
      .send({ session: 'd'.repeat(37), target: 'all', message: 'x' })
      .expect(400);
    expect(b.body.details.issues).toContainEqual(
      expect.objectContaining({ location: 'body', field: 'session', rule: 'length' }),
    );
    const short = await request(t.http).get('/sessions/NOT-VALID').expect(400);
    expect(short.body.details.issues[0].rule).toBe('pattern');
  });

  it('#16 A14: a path with an empty segment is 404 ROUTE_NOT_FOUND', async () => {
    for (const [m, p] of [
      ['get', '/sessions//agents'],
      ['post', '/sessions//stop'],
      ['post', '/session//restore'],
      ['get', '/sessions//'],
    ] as const) {
      const res = await request(t.http)[m](p).expect(404);
      expect(res.body.code).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('#16 §2.2: prototype keys and bracket syntax in the query are 400', async () => {
    const proto = await request(t.http).get('/sessions?__proto__[x]=1').expect(400);
    expect(proto.body.details.issues[0]).toMatchObject({
      location: 'query',
      field: '__proto__',
      rule: 'forbidden_key',
    });
    for (const k of ['__proto__', 'constructor', 'prototype']) {
      expect(
        (await request(t.http).get(`/sessions?${k}=1`).expect(400)).body.details.issues[0].rule,
      ).toBe('forbidden_key');
    }
    expect(
      (await request(t.http).get('/sessions?status[]=x').expect(400)).body.details.issues[0],
    ).toMatchObject({ field: 'status', rule: 'type' });
    expect(
      (await request(t.http).get('/status?foo[a]=1').expect(400)).body.details.issues[0].rule,
    ).toBe('type');
    expect((await request(t.http).get('/nope?__proto__=1').expect(404)).body.code).toBe(
      'ROUTE_NOT_FOUND',
    ); // no route, no query check
  });

  it('#18 A16: a wrong-typed unitId still has its manager and workers checked (hostable_id skipped)', async () => {
    const body = {
      agents: {
        units: [
          {
            unitId: '1',
            manager: { id: '1', prompt: 'go' },
            workers: [
              { id: '99', prompt: '' },
              { id: 'x', prompt: 'go' },
            ],
          },
        ],
      },
    };
    const res = await request(t.http).post('/runs').send(body).expect(400);
    const issues = res.body.details.issues as { field: string; rule: string }[];
    expect(issues).toContainEqual(
      expect.objectContaining({ field: 'agents.units[0].unitId', rule: 'type' }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({ field: 'agents.units[0].manager.id', rule: 'pattern' }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({ field: 'agents.units[0].workers[0].prompt' }),
    );
    expect(issues).toContainEqual(
      expect.objectContaining({ field: 'agents.units[0].workers[1].id', rule: 'pattern' }),
    );
    expect(issues.filter((i) => i.rule === 'hostable_id')).toEqual([]);
  });

  it('#15 A13: a path the router cannot decode passes the Host check, carries the standard headers and the envelope', async () => {
    const host = await request(t.http).get('/sessions/%zz').set('Host', 'evil.example').expect(403);
    expect(host.body.code).toBe('HOST_NOT_ALLOWED');
    const res = await request(t.http)
      .get('/sessions/%zz')
      .set('X-Request-Id', 'bad-url-1')
      .expect(400);
    expect(res.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ location: 'path' }] },
    });
    expect(res.body.timestamp).toEqual(expect.any(String));
    expect(res.headers).toMatchObject({
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': 'bad-url-1',
    });
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });
});

describe('issue 12 rate budgets (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_RATE_LIMIT_RUNS: '2',
      MAS_RATE_LIMIT_MESSAGE: '2',
      MAS_RATE_LIMIT_LIFECYCLE: '2',
    });
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('#7 A7: POST /run%73 counts against runs, /messag%65 against message, a 400 still counts', async () => {
    await request(t.http).post('/runs').send({}).expect(400);
    await request(t.http).post('/runs').send({}).expect(400);
    const runs = await request(t.http).post('/run%73').send({}).expect(429);
    expect(runs.body.code).toBe('RATE_LIMITED');
    await request(t.http).post('/messag%65').send({}).expect(400);
    await request(t.http).post('/message').send({}).expect(400);
    await request(t.http).post('/messag%65').send({}).expect(429);
    await request(t.http).get('/sessions').expect(200); // other budgets untouched
  });

  it('#7 A7: stop and restore share one lifecycle bucket; Retry-After is the seconds until the window frees', async () => {
    await request(t.http).post('/sessions/deadbeef/stop').expect(404);
    await request(t.http).post('/session/deadbeef/restore').expect(404);
    const res = await request(t.http).post('/sessions/deadbeef/restore').expect(429);
    const wait = Number(res.headers['retry-after']);
    expect(Number.isInteger(wait)).toBe(true);
    expect(wait).toBeGreaterThanOrEqual(50); // the window began moments ago
    expect(wait).toBeLessThanOrEqual(60);
  });
});

describe('issue 12 HTTP findings that need a listening socket (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let port: number;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_API_MAX_CONNECTIONS: '16' });
    port = portOf(t);
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('#2 A6: MAS_API_MAX_CONNECTIONS is 16-65,536, default 512; MAS_RATE_LIMIT_OBSERVE defaults to 1200', () => {
    expect(parseEnv({}).maxConnections).toBe(512);
    expect(parseEnv({}).rateLimits.observe).toBe(1200);
    expect(() => parseEnv({ MAS_API_MAX_CONNECTIONS: '15' })).toThrow(ConfigError);
    expect(() => parseEnv({ MAS_API_MAX_CONNECTIONS: '65537' })).toThrow(ConfigError);
    expect(parseEnv({ MAS_API_MAX_CONNECTIONS: '65536' }).maxConnections).toBe(65536);
  });

  it('#2 A6: the (cap+1)th connection is closed at once while the first cap stay open', async () => {
    const conns: Conn[] = [];
    for (let i = 0; i < 16; i++) conns.push(await open(port));
    await Promise.all(
      conns.map(async (c) => {
        c.socket.write(GET('/health'));
        await answers(c, 1);
      }),
    );
    const extra = await open(port);
    extra.socket.write(GET('/health'));
    const closedAt = await Promise.race([
      extra.closed,
      new Promise<number>((r) => setTimeout(() => r(0), 2000)),
    ]);
    expect(closedAt).toBeGreaterThan(0);
    expect(extra.data()).toBe('');
    // the first 16 were kept: each still answers
    await Promise.all(
      conns.map(async (c) => {
        c.socket.write(GET('/health'));
        await answers(c, 2);
      }),
    );
    for (const c of conns) c.socket.destroy();
    const count = () =>
      new Promise<number>((r) => (t.http as Server).getConnections((_e, n) => r(n)));
    await waitFor(async () => (await count()) === 0);
  });

  it('#2 A6: an idle keep-alive connection is closed about 5 s after its last answer', async () => {
    const c = await open(port);
    c.socket.write(GET('/health'));
    await answers(c, 1);
    const answeredAt = Date.now();
    const closedAt = await Promise.race([
      c.closed,
      new Promise<number>((r) => setTimeout(() => r(0), 12_000)),
    ]);
    c.socket.destroy();
    expect(closedAt - answeredAt).toBeGreaterThan(4000);
    // closed, not kept: a loaded CI run saw the 5 s timer fire at 8.3 s
    expect(closedAt - answeredAt).toBeLessThan(10_000);
  }, 20_000);

  it("#15 A13: headers that never complete get 408 REQUEST_TIMEOUT in the envelope, not Node's raw 408", async () => {
    const srv = t.http as Server;
    const [headers, whole] = [srv.headersTimeout, srv.requestTimeout];
    srv.headersTimeout = 800;
    srv.requestTimeout = 1500;
    try {
      const c = await open(port);
      c.socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n');
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, 5000))]);
      const raw = c.data();
      expect(raw.startsWith('HTTP/1.1 408')).toBe(true);
      expect(raw).toMatch(/\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
      expect(raw).toMatch(/\r\ncache-control: no-store\r\n/i);
      expect(raw).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
      expect(jsonOf(raw)).toMatchObject({
        code: 'REQUEST_TIMEOUT',
        error: expect.any(String),
        timestamp: expect.any(String),
      });
      // a body that stops arriving: the same envelope
      const b = await open(port);
      b.socket.write(
        'POST /runs HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"agents"',
      );
      await Promise.race([b.closed, new Promise((r) => setTimeout(r, 5000))]);
      expect(b.data().startsWith('HTTP/1.1 408')).toBe(true);
      expect(jsonOf(b.data()).code).toBe('REQUEST_TIMEOUT');
    } finally {
      srv.headersTimeout = headers;
      srv.requestTimeout = whole;
    }
  }, 15_000);
});

describe('issue 12 token and readiness findings (e2e)', () => {
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

  it('#19 A8: the Bearer scheme name is case-insensitive', async () => {
    await request(t.http).get('/sessions').set('Authorization', 'bearer s3cret').expect(200);
    await request(t.http).get('/sessions').set('Authorization', 'BEARER s3cret').expect(200);
    await request(t.http).get('/sessions').set('Authorization', 'bearer wrong').expect(401);
    await request(t.http).get('/sessions').set('Authorization', 'Basic s3cret').expect(401);
  });

  it('#19 A8: /health/ready without the token shows only status and timestamp', async () => {
    const anon = await request(t.http).get('/health/ready').expect(200);
    expect(Object.keys(anon.body).sort()).toEqual(['status', 'timestamp']);
    expect(anon.text).not.toContain(t.workspace);
    const full = await request(t.http)
      .get('/health/ready')
      .set('Authorization', 'Bearer s3cret')
      .expect(200);
    expect(full.body.checks.workspace).toMatchObject({ status: 'up', root: t.workspace });
  });

  it('#15 A13: a path the router cannot decode still needs the token', async () => {
    expect((await request(t.http).get('/sessions/%zz').expect(401)).body.code).toBe('UNAUTHORIZED');
    await request(t.http).get('/sessions/%zz').set('Authorization', 'Bearer s3cret').expect(400);
  });
});

describe('issue 12 readiness with a failing tmux (e2e)', () => {
  let dir: string;
  let t: TestApp;
  const calls = () =>
    readFileSync(path.join(dir, 'calls'), 'utf8').split('\n').filter(Boolean).length;

  beforeAll(async () => {
    dir = mkdtempSync('/tmp/mr-');
    const bin = path.join(dir, 'tmux');
    writeFileSync(path.join(dir, 'calls'), '');
    // every call is counted and fails, slowly enough that concurrent probes overlap
    writeFileSync(
      bin,
      `#!/bin/sh\necho x >> ${dir}/calls\nsleep 0.3\necho "something odd" >&2\nexit 1\n`,
    );
    chmodSync(bin, 0o755);
    t = await createTestApp(undefined, {
      MAS_TMUX_BIN: bin,
      MAS_TMUX_SOCKET: path.join(dir, 's'),
      MAS_TMUX_CONTROL: 'false',
      MAS_API_TOKEN: 's3cret',
    });
  });

  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('#9 A9: readiness spends one tmux call per 10 s whatever its outcome, shared by concurrent probes', async () => {
    const before = calls();
    const all = await Promise.all(
      Array.from({ length: 8 }, () => request(t.http).get('/health/ready')),
    );
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(503));
    for (let i = 0; i < 4; i++) await request(t.http).get('/health/ready').expect(503);
    expect(calls() - before).toBe(1);
  });

  it('#19 A8: a 503 readiness without the token shows each check only as up or down', async () => {
    const anon = await request(t.http).get('/health/ready').expect(503);
    expect(anon.body).toMatchObject({
      code: 'NOT_READY',
      details: { checks: { tmux: 'down', workspace: 'up', agentCommand: 'up' } },
    });
    expect(anon.text).not.toContain(t.workspace);
    expect(anon.text).not.toContain(FAKE_AGENT);
    const full = await request(t.http)
      .get('/health/ready')
      .set('Authorization', 'Bearer s3cret')
      .expect(503);
    expect(full.body.details.checks.agentCommand).toMatchObject({ status: 'up', path: FAKE_AGENT });
  });
});

describe('issue 12 shutdown of the real process (e2e)', () => {
  let server: TmuxTestServer;
  let ws: string;

  beforeAll(() => {
    server = TmuxTestServer.create();
    ws = mkdtempSync('/tmp/mw-');
  });

  afterAll(async () => {
    await server.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('#13 A12: SIGTERM lets an in-flight request finish with its normal status, and the process exits within 9 s', async () => {
    const svc = await startService({
      MAS_TMUX_SOCKET: server.socket,
      MAS_TMUX_CONFIG: server.config,
      MAS_WORKSPACE_ROOT: ws,
      MAS_AGENT_COMMAND: FAKE_AGENT,
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_PROMPT_DELAY_MS: '300',
      MAS_SUBMIT_DELAY_MS: '2500',
    });
    try {
      const team = {
        agents: { units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }] },
      };
      const created = await fetch(`${svc.url}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(team),
      });
      expect(created.status).toBe(201);
      const { sessionId } = (await created.json()) as { sessionId: string };
      await waitFor(
        async () =>
          (
            (await (await fetch(`${svc.url}/sessions/${sessionId}`)).json()) as {
              startup?: { state: string };
            }
          ).startup?.state === 'ready',
        30_000,
        200,
      );
      // a message takes the submit delay (2.5 s) to answer: SIGTERM arrives while it is in flight
      const slow = fetch(`${svc.url}/message`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ session: sessionId, target: '10', message: 'still here' }),
      });
      await new Promise((r) => setTimeout(r, 400));
      const termAt = Date.now();
      svc.proc.kill('SIGTERM');
      const res = await slow;
      expect({ status: res.status, body: await res.json() }).toMatchObject({ status: 200 });
      await svc.exited;
      expect(Date.now() - termAt).toBeLessThan(9000);
      expect(await server.sessionNames()).toContain(`mas-${sessionId.slice(0, 8)}`); // sessions outlive the service
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
