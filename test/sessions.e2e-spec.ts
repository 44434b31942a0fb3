import { mkfifoSync } from './support/mkfifo';
import { symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import { CaptureService } from '../src/core/transcript/capture.service';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';
import { writeSessionDir, idWithShort } from './support/workspace-fixture';
import { STANDARD_IDS } from './support/team';
import { waitFor } from './support/wait-for';

/** Builds a session in the legacy restore layout, untagged, as the shell tooling did. */
async function legacyLayout(server: TmuxTestServer, name: string): Promise<void> {
  await server.ok(
    'new-session',
    '-d',
    '-s',
    name,
    '-n',
    'meta',
    '-x',
    '120',
    '-y',
    '40',
    'sleep 600',
  );
  for (const w of ['design', 'development', 'business']) {
    await server.ok('new-window', '-t', `=${name}:`, '-n', w, 'sleep 600');
    for (let i = 0; i < 3; i++) await server.ok('split-window', '-t', `=${name}:${w}`, 'sleep 600');
  }
}

describe('sessions (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let ws: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_CACHE_TTL_MS: '0', MAS_AGENT_PROCESS_NAMES: 'sleep' });
    ws = t.workspace;
    ids.legacy = writeSessionDir(ws, { units: ['00', '10', '11', '12', '13'] });
    await legacyLayout(server, `mas-${ids.legacy.slice(0, 8)}`);
    ids.terminated = writeSessionDir(ws, {
      status: 'stopped',
      createdAt: '2026-11-20T10:00:00Z',
      units: ['00', '10'],
    });
    // non-MAS sessions that must never appear or change
    await server.ok('new-session', '-d', '-s', 'work', 'sleep 600');
    await server.ok('new-session', '-d', '-s', 'mas-notes', 'sleep 600');
    // a tmux-only MAS session, untagged and unclaimed: never listed
    await server.ok('new-session', '-d', '-s', 'mas-0badc0de', 'sleep 600');
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('lists only attributed MAS sessions with their status and counts', async () => {
    const res = await request(t.http).get('/sessions').expect(200);
    const byId = Object.fromEntries(
      res.body.sessions.map((s: { sessionId: string }) => [s.sessionId, s]),
    );
    expect(Object.keys(byId).sort()).toEqual([ids.legacy, ids.terminated].sort());
    expect(byId[ids.legacy]).toMatchObject({
      status: 'inactive',
      source: 'workspace',
      agentsTotal: 13,
      agentCount: 13,
      tmuxSession: `mas-${ids.legacy.slice(0, 8)}`,
      httpServerStatus: 'running',
      restorable: false,
    });
    expect(byId[ids.terminated]).toMatchObject({
      status: 'terminated',
      agentsTotal: 2,
      agentCount: 0,
      startedAt: '2026-11-20T10:00:00.000Z',
      restorable: true,
    });
    expect(res.body).toMatchObject({ total: 2, count: 2, limit: 50, offset: 0 });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(await server.sessionNames()).toEqual(
      expect.arrayContaining(['work', 'mas-notes', 'mas-0badc0de']),
    );
  });

  it('maps agents of the legacy layout by window name and pane index', async () => {
    const res = await request(t.http).get(`/sessions/${ids.legacy}`).expect(200);
    const a10 = res.body.agents.find((a: { agentId: string }) => a.agentId === '10');
    expect(a10).toMatchObject({
      name: 'Design Manager',
      role: 'manager',
      unitId: 1,
      status: 'running',
      window: 'design',
      pane: 0,
    });
    expect(res.body.agents.map((a: { agentId: string }) => a.agentId)).toEqual(STANDARD_IDS);
    expect(res.body.windows.map((w: { name: string }) => w.name)).toEqual([
      'meta',
      'design',
      'development',
      'business',
    ]);
  });

  it('counts a control-mode client as attached (status active)', async () => {
    const { spawn } = await import('node:child_process');
    const name = `mas-${ids.legacy.slice(0, 8)}`;
    const client = spawn(
      'tmux',
      ['-u', '-S', server.socket, '-C', 'attach-session', '-t', `=${name}`],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    try {
      await waitFor(
        async () => (await request(t.http).get(`/sessions/${ids.legacy}`)).body.status === 'active',
      );
      const res = await request(t.http).get('/sessions?status=active').expect(200);
      expect(res.body.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([
        ids.legacy,
      ]);
      expect(res.body.sessions[0].attachedClients).toBe(1);
    } finally {
      client.stdin.end('\n');
      client.kill();
    }
  });

  it('resolves full id, short id and tmux name exactly; canonical id in the answer', async () => {
    for (const ref of [ids.legacy, ids.legacy.slice(0, 8), `mas-${ids.legacy.slice(0, 8)}`]) {
      const res = await request(t.http).get(`/sessions/${ref}`).expect(200);
      expect(res.body.sessionId).toBe(ids.legacy);
    }
    await request(t.http)
      .get(`/session/${ids.legacy.slice(0, 8)}/agents`)
      .expect(200);
  });

  it.each([
    'ebef',
    'ABCDEF01',
    'mas-ebef',
    '=mas-abcdef01',
    'a:b',
    '%1',
    'abcdef0',
    'MAS-abcdef01',
    'abcdef01;',
    'abcdef01 ',
  ])('rejects reference %s with 400 on the path', async (ref) => {
    const res = await request(t.http)
      .get(`/sessions/${encodeURIComponent(ref)}`)
      .expect(400);
    expect(res.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { issues: [{ location: 'path', field: 'sessionId', rule: 'pattern' }] },
    });
  });

  it('answers 404 for well-formed references that match nothing', async () => {
    for (const ref of [
      'deadbeef',
      'mas-deadbeef',
      'deadbeef-0000-4000-8000-000000000000',
      '0badc0de',
    ]) {
      const res = await request(t.http).get(`/sessions/${ref}`).expect(404);
      expect(res.body).toMatchObject({ code: 'SESSION_NOT_FOUND', details: { sessionId: ref } });
    }
  });

  it('answers 409 SESSION_ID_AMBIGUOUS when a short id matches two sessions', async () => {
    const a = writeSessionDir(ws, { id: idWithShort('abcabc12') });
    const b = writeSessionDir(ws, { id: idWithShort('abcabc12') });
    const res = await request(t.http).get('/sessions/abcabc12').expect(409);
    expect(res.body.details.candidates).toEqual([a, b].sort());
  });

  it.each([
    ['status=bogus', 'status'],
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=abc', 'limit'],
    ['offset=-1', 'offset'],
    ['limit=1e1', 'limit'],
    ['status=active&status=inactive', 'status'],
    ['status[]=active', 'status'],
  ])('rejects ?%s with the field at fault', async (q, field) => {
    const res = await request(t.http).get(`/sessions?${q}`).expect(400);
    expect(res.body.details.issues[0]).toMatchObject({ location: 'query', field });
  });

  it('pages stably and accepts every filter', async () => {
    const all = (await request(t.http).get('/sessions?limit=100').expect(200)).body;
    const page = (await request(t.http).get('/sessions?limit=1&offset=1').expect(200)).body;
    expect(page.sessions[0].sessionId).toBe(all.sessions[1].sessionId);
    expect(page.total).toBe(all.total);
    for (const s of ['active', 'inactive', 'terminated', 'restoring', 'all'])
      await request(t.http).get(`/sessions?status=${s}`).expect(200);
    expect((await request(t.http).get('/sessions?offset=999').expect(200)).body.sessions).toEqual(
      [],
    );
  });

  it('survives a hostile workspace and reads none of it', async () => {
    const outside = path.join(server.dir, 'secret');
    writeFileSync(outside, 'SESSION_ID=stolen\n');
    const link = writeSessionDir(ws, { sessionText: '' });
    const linkFile = path.join(ws, 'sessions', link, '.session');
    require('node:fs').rmSync(linkFile);
    symlinkSync(outside, linkFile);
    const fifo = writeSessionDir(ws, { sessionText: '' });
    require('node:fs').rmSync(path.join(ws, 'sessions', fifo, '.session'));
    mkfifoSync(path.join(ws, 'sessions', fifo, '.session'));
    const big = writeSessionDir(ws, { sessionText: 'X'.repeat(10 * 1024 * 1024) });
    const dir = writeSessionDir(ws, { sessionText: '' });
    require('node:fs').rmSync(path.join(ws, 'sessions', dir, '.session'));
    mkdirSync(path.join(ws, 'sessions', dir, '.session'));
    const started = Date.now();
    const res = await request(t.http).get('/sessions?limit=100').expect(200);
    expect(Date.now() - started).toBeLessThan(5000); // a FIFO read would hang forever
    const got = Object.fromEntries(
      res.body.sessions.map((s: { sessionId: string }) => [s.sessionId, s]),
    );
    for (const id of [link, fifo, big, dir]) expect(got[id]).toMatchObject({ restorable: false });
    const detail = (await request(t.http).get(`/sessions/${link}`).expect(200)).body;
    expect(detail.warnings).toContain('METADATA_UNREADABLE');
  });

  it('lists a tagged tmux-only session (directory gone) with source tmux', async () => {
    const id = 'fee1dead-0b76-4071-ad8d-d5d075397ec3';
    await server.ok('new-session', '-d', '-s', 'mas-fee1dead', 'sleep 600');
    await server.ok('set-option', '-t', '=mas-fee1dead:', '@mas_session_id', id);
    await server.ok('set-option', '-t', '=mas-fee1dead:', '@mas_workspace', ws);
    const res = await request(t.http).get(`/sessions/${id}`).expect(200);
    expect(res.body).toMatchObject({
      source: 'tmux',
      status: 'inactive',
      restorable: false,
      workingDir: path.join(ws, 'sessions', id),
    });
    await server.ok(
      'set-option',
      '-t',
      '=mas-fee1dead:',
      '@mas_workspace',
      '/some/other/workspace',
    );
    await request(t.http).get(`/sessions/${id}`).expect(404); // tagged for another workspace: invisible
  });

  it('answers a listing of 50 live MAS sessions from exactly one tmux call (R1)', async () => {
    for (let i = 0; i < 50; i++) {
      const id = writeSessionDir(ws, { units: ['10'] });
      await server.ok(
        'new-session',
        '-d',
        '-s',
        `mas-${id.slice(0, 8)}`,
        '-n',
        'design',
        'sleep 600',
      );
    }
    // the first listing makes transcript capture adopt them (§10.2): its pipe-pane writes are
    // tmux calls of their own, which must not race the count
    await request(t.http).get('/sessions?limit=1').expect(200);
    await t.app.get(CaptureService).reconciled();
    // counted by command: capture's own pipe-pane writes run in the background
    const calls: string[] = [];
    t.gateway.observeCalls({ callEnded: (c) => calls.push(`${c.command} (${c.path})`) });
    const res = await request(t.http).get('/sessions?status=inactive&limit=100').expect(200);
    expect(res.body.total).toBeGreaterThanOrEqual(50);
    expect(calls.filter((c) => !c.startsWith('pipe-pane'))).toEqual(['list-panes (fork)']);
  });

  it('reads the legacy .mas_session: a legacy session is listed and is the default of GET /status', async () => {
    await server.ok('new-session', '-d', '-s', 'mas-1e9ac001', '-n', 'meta', 'sleep 600');
    writeFileSync(
      path.join(ws, '.mas_session'),
      `SESSION_NAME=mas-1e9ac001\nSTARTED_AT="2026-11-20 08:30:00"\nPID=1\nPROJECT_DIR=${ws}\n`,
    );
    const id = '1e9ac001-0000-4000-8000-000000000000';
    const res = await request(t.http).get('/sessions/mas-1e9ac001').expect(200);
    expect(res.body).toMatchObject({
      sessionId: id,
      source: 'legacy',
      workingDir: ws,
      restorable: false,
    });
    expect(Date.parse(res.body.startedAt)).toBe(new Date(2026, 10, 20, 8, 30, 0).getTime());
    expect((await request(t.http).get('/status').expect(200)).body).toMatchObject({
      session: 'mas-1e9ac001',
      sessionId: id,
    });
    // pointing at a workspace session makes that one the default instead
    const name = `mas-${ids.legacy.slice(0, 8)}`;
    writeFileSync(path.join(ws, '.mas_session'), `SESSION_NAME=${name}\nPROJECT_DIR=${ws}\n`);
    expect((await request(t.http).get('/status').expect(200)).body).toMatchObject({
      session: name,
      sessionId: ids.legacy,
      status: 'running',
    });
  });

  it('answers JSON 404 for unknown routes and wrong methods', async () => {
    for (const [m, p] of [
      ['get', '/nope'],
      ['post', '/sessions'],
      ['get', '/sessions//stop'],
      ['get', '/runs'],
    ] as const) {
      const res = await request(t.http)[m](p).expect(404);
      expect(res.body.code).toBe('ROUTE_NOT_FOUND');
      expect(typeof res.body.error).toBe('string');
    }
  });

  it('answers every other method, CONNECT included, 404 ROUTE_NOT_FOUND in the envelope (§2.1)', async () => {
    const { port } = t.http.address() as AddressInfo;
    const raw = (head: string) =>
      new Promise<string>((resolve, reject) => {
        const sock = connect(port, '127.0.0.1', () => sock.write(head));
        let text = '';
        sock.on('data', (c: Buffer) => (text += c.toString('utf8')));
        sock.on('close', () => resolve(text));
        sock.on('error', reject);
        setTimeout(() => sock.destroy(), 3000); // no answer at all: resolved empty
      });
    for (const head of [
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
      'PROPFIND /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
      'DELETE /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    ]) {
      const text = await raw(head);
      expect(text).toMatch(/^HTTP\/1\.1 404 /);
      expect(text).toMatch(/\r\nx-request-id: /i);
      expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({
        code: 'ROUTE_NOT_FOUND',
      });
    }
  });
});
