import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import type { TestApp } from './support/create-test-app';
import type { TmuxTestServer } from './support/tmux-server';
import { type ReadyTeam, startReadyTeam, teamAgent } from './support/team';
import { waitFor } from './support/wait-for';

describe('POST /message (e2e, real tmux, recording agents)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; tmuxSession: string };
  const file = (a: string) =>
    path.join(t.workspace, 'sessions', s.sessionId, 'unit', a, 'received.bin');
  const received = (a: string) => (existsSync(file(a)) ? readFileSync(file(a), 'utf8') : '');
  let mark: Record<string, number> = {};
  const since = (a: string) => received(a).slice(mark[a] ?? 0);
  const markAll = () =>
    (mark = Object.fromEntries(
      ['00', '10', '11', '12', '13', '20', '21', '30'].map((a) => [a, received(a).length]),
    ));
  const send = (body: object) =>
    request(t.http)
      .post('/message')
      .send({ session: s.tmuxSession, ...body });

  let fixture: ReadyTeam;
  beforeAll(async () => {
    fixture = await startReadyTeam();
    ({ server, t, session: s } = fixture);
  }, 30000);

  afterAll(() => fixture.close());

  beforeEach(() => markAll());

  const hostile = [
    'ends with semicolon;',
    'ends with escaped \\;',
    '-R',
    '-X',
    '--',
    '-l -- x',
    'Enter',
    'C-c',
    'Escape',
    'quotes \' " and $(id) and `id` and $HOME',
    '#{session_name}',
    'emoji 😀 and CJK 漢字かな',
    'tab\there',
  ];
  it.each(hostile)('delivers %j byte-exact and submits it', async (text) => {
    const res = await send({ target: 'agent-10', message: text }).expect(200);
    expect(res.body).toMatchObject({
      status: 'acknowledged',
      delivered: 1,
      failed: 0,
      session: s.tmuxSession,
      sessionId: s.sessionId,
      target: 'agent-10',
      message: text,
    });
    await waitFor(() => since('10') === `${text}\r`);
  });

  it('never runs #(...) format commands', async () => {
    const marker = path.join(server.dir, 'pwned');
    await send({ target: '10', message: `#(touch ${marker})` }).expect(200);
    await waitFor(() => since('10') === `#(touch ${marker})\r`);
    expect(existsSync(marker)).toBe(false);
  });

  it('delivers multi-line text as one paste, lines intact (CRLF normalised)', async () => {
    await send({ target: '11', message: 'line one\r\nline two\nline three' }).expect(200);
    await waitFor(() => since('11') === 'line one\rline two\rline three\r');
  });

  it('delivers 64 KiB of text whole', async () => {
    const text = 'abcdefghijklmnopqrstuvwxyz012345'.repeat(2048);
    await send({ target: '12', message: text }).expect(200);
    await waitFor(() => since('12') === `${text}\r`, 10000);
    await send({ target: '12', message: `${text}x` }).expect(413);
  });

  it('execute:false pastes without pressing Enter', async () => {
    await send({ target: '13', message: 'draft', execute: false }).expect(200);
    await waitFor(() => since('13') === 'draft');
    await new Promise((r) => setTimeout(r, 300));
    expect(since('13')).toBe('draft');
  });

  it('expands groups in roster order and narrows them to the roster', async () => {
    const res = await send({ target: 'managers,agent-21', message: 'sync' }).expect(200);
    expect(res.body.receipts.map((r: { agentId: string }) => r.agentId)).toEqual([
      '00',
      '10',
      '20',
      '21',
      '30',
    ]);
    await waitFor(() => ['00', '10', '20', '21', '30'].every((a) => since(a) === 'sync\r'));
  });

  it('reports explicit ids outside the roster as not_found, and only those as 404', async () => {
    const partial = await send({ target: '10,45', message: 'x' }).expect(200);
    expect(partial.body).toMatchObject({ status: 'partial', delivered: 1, failed: 1 });
    expect(partial.body.receipts[1]).toMatchObject({ agentId: '45', status: 'not_found' });
    const none = await send({ target: 'agent-45', message: 'x' }).expect(404);
    expect(none.body.code).toBe('TARGET_NOT_FOUND');
  });

  it.each([
    ['bogus', 'target'],
    ['agent-16', 'target'],
    ['01', 'target'],
    ['10;', 'target'],
  ])('rejects target %j with 400', async (target, field) => {
    const res = await send({ target, message: 'x' }).expect(400);
    expect(res.body.details.issues[0]).toMatchObject({ field, rule: 'grammar' });
  });

  it.each([
    ['nul \u0000', 'control_characters'],
    ['esc \u001b[201~', 'control_characters'],
    ['bidi \u202e', 'control_characters'],
    ['lone \ud800', 'invalid_unicode'],
    ['   \n ', 'blank'],
  ])('rejects message %j with 400 %s', async (message, rule) => {
    const res = await send({ target: '10', message }).expect(400);
    expect(res.body.details.issues[0]).toMatchObject({ field: 'message', rule });
    expect(res.body.details.issues[0].received).toBeUndefined();
  });

  it('answers 404 for an unknown session and 400 for a malformed one', async () => {
    await request(t.http)
      .post('/message')
      .send({ session: 'mas-deadbeef', target: 'all', message: 'x' })
      .expect(404);
    await request(t.http)
      .post('/message')
      .send({ session: 'mas-dead', target: 'all', message: 'x' })
      .expect(400);
  });

  it('delivers to a pane in copy mode', async () => {
    const d = (await request(t.http).get(`/sessions/${s.sessionId}`)).body;
    const a20 = d.agents.find((a: { agentId: string }) => a.agentId === '20');
    await server.ok('copy-mode', '-t', `=${s.tmuxSession}:${a20.windowIndex}.${a20.pane}`);
    await send({ target: '20', message: 'through copy mode' }).expect(200);
    await waitFor(() => since('20') === 'through copy mode\r');
  });

  it('keeps two concurrent messages to one agent whole, one after the other', async () => {
    const a = 'A'.repeat(4000);
    const b = 'B'.repeat(4000);
    await Promise.all([
      send({ target: '21', message: a }).expect(200),
      send({ target: '21', message: b }).expect(200),
    ]);
    await waitFor(() => since('21').length === 8002);
    expect([`${a}\r${b}\r`, `${b}\r${a}\r`]).toContain(since('21'));
  });

  it('types nothing into a pane whose agent is not running (409) and never into non-MAS sessions', async () => {
    await server.ok('new-session', '-d', '-s', 'work', 'sleep 600');
    const d = (await request(t.http).get(`/sessions/${s.sessionId}`)).body;
    const a31 = d.agents.find((a: { agentId: string }) => a.agentId === '31');
    await server.ok(
      'respawn-pane',
      '-k',
      '-t',
      `=${s.tmuxSession}:${a31.windowIndex}.${a31.pane}`,
      'bash',
    );
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${s.sessionId}`)).body.agents.find(
          (a: { agentId: string }) => a.agentId === '31',
        ).status === 'stopped',
    );
    const res = await send({ target: '31', message: 'rm -rf /tmp/nothing' }).expect(409);
    expect(res.body).toMatchObject({
      code: 'AGENT_NOT_RUNNING',
      details: { receipts: [{ agentId: '31', status: 'not_running' }] },
    });
    const screen = await server.ok(
      'capture-pane',
      '-p',
      '-t',
      `=${s.tmuxSession}:${a31.windowIndex}.${a31.pane}`,
    );
    expect(screen).not.toContain('rm -rf');
    await request(t.http)
      .post('/message')
      .send({ session: 'work', target: 'all', message: 'x' })
      .expect(400);
  });

  it('replays with the same Idempotency-Key instead of sending twice', async () => {
    const key = `m-${Date.now()}`;
    await send({ target: '30', message: 'once' }).set('Idempotency-Key', key).expect(200);
    const again = await send({ target: '30', message: 'once' })
      .set('Idempotency-Key', key)
      .expect(200);
    expect(again.headers['idempotency-replayed']).toBe('true');
    await new Promise((r) => setTimeout(r, 300));
    expect(since('30')).toBe('once\r');
  });

  it('answers 409 SESSION_TERMINATED for a stopped session', async () => {
    const other = (
      await request(t.http)
        .post('/runs')
        .send({
          agents: { units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }] },
        })
        .expect(201)
    ).body;
    await request(t.http)
      .post(`/sessions/${other.sessionId}/stop`)
      .send({ force: true })
      .expect(200);
    const res = await request(t.http)
      .post('/message')
      .send({ session: other.tmuxSession, target: 'all', message: 'x' })
      .expect(409);
    expect(res.body.code).toBe('SESSION_TERMINATED');
  });
});
