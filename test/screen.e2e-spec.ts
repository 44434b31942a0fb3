import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';
import { TMUX_RUNNER } from '../src/tmux/tmux.constants';
import type { TmuxRunner } from '../src/tmux/tmux-runner';

const SCREEN_AGENT = path.join(__dirname, 'support', 'screen-agent');
const ESC = '\x1b';

/** 00 and unit 1 (10-13) run the screen agent; 11 exits 3 after painting (a dead pane, kept). */
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [
      {
        unitId: 1,
        manager: teamAgent('10'),
        workers: ['11', '12', '13'].map((id) => teamAgent(id)),
      },
    ],
  },
};

describe('GET /sessions/:id/agents/:agentId/screen (e2e, real tmux, §10.1)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const screen = (agent: string, query = '', ref = s.shortId) =>
    request(t.http).get(`/sessions/${ref}/agents/${agent}/screen${query}`);
  const agents = async () =>
    (await request(t.http).get(`/sessions/${s.sessionId}/agents`).expect(200)).body.agents as {
      agentId: string;
      status: string;
      reason: string;
    }[];
  const paneOf = async (agent: string) =>
    (
      await server.ok(
        'list-panes',
        '-s',
        '-t',
        `=${s.tmuxSession}`,
        '-F',
        '#{pane_id} #{@mas_agent_id}',
      )
    )
      .split('\n')
      .find((l) => l.endsWith(` ${agent}`))!
      .split(' ')[0];

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: SCREEN_AGENT,
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    // every painting agent has reached its prompt, and 11 has exited
    await waitFor(async () => {
      const a = await agents();
      return a.find((x) => x.agentId === '11')?.status === 'error';
    }, 15000);
    await waitFor(async () => (await screen('10')).body.lines?.at(-1) === 'cursor>', 8000);
    // every prompt typed: a later test's C-d must find an empty input line to be an EOF (under
    // CI load it once landed between a prompt's paste and its Enter)
    await waitFor(async () => {
      const state = (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.state;
      return ['ready', 'degraded', 'failed'].includes(state);
    }, 15000);
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('visible screen: known lines, size and cursor as tmux has them, trailing blanks trimmed', async () => {
    const res = await screen('10').expect(200);
    const b = res.body;
    const pane = await paneOf('10');
    const [w, h] = (
      await server.ok('display-message', '-p', '-t', pane, '#{pane_width} #{pane_height}')
    )
      .trim()
      .split(' ')
      .map(Number);
    expect(b).toMatchObject({
      sessionId: s.sessionId,
      agentId: '10',
      paneId: pane,
      status: 'running',
      width: w,
      height: h,
      history: 0,
      ansi: false,
    });
    // the capture saw it paint (§10.4): printing lately or quiet since, never unobserved
    expect(['working', 'idle']).toContain(b.activity);
    expect(Date.parse(b.capturedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(b.lines.at(-1)).toBe('cursor>'); // the empty rows below the prompt are trimmed
    expect(b.lines.at(-2)).toBe(''); // a blank line inside the screen is kept
    expect(b.lines.at(-3)).toBe('last');
    expect(b.lines).toContain('plain red end');
    expect(b.lines).toContain(`LONG${'0'.repeat(300)}`); // wrapped rows joined (-J)
    expect(b.lines.length).toBeLessThanOrEqual(h);
    // cursor: row on the visible screen, counting the rows the joined line occupies there
    const long = Math.ceil(304 / w);
    const joined = b.lines.findIndex((l: string) => l.startsWith('LONG')) >= 0 ? long - 1 : 0;
    expect(b.cursor).toEqual({ x: 'cursor>'.length, y: b.lines.length - 1 + joined });
  });

  it('history: `lines=n` adds the n lines above the screen, counted in `history`', async () => {
    const visible = (await screen('10').expect(200)).body.lines as string[];
    const b = (await screen('10', '?lines=5').expect(200)).body;
    expect(b.history).toBe(5);
    expect(b.lines.slice(5)).toEqual(visible);
    const first = Number(/^history (\d+)$/.exec(b.lines[0])![1]);
    expect(b.lines.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `history ${first + i}`));
    // more than there is: only what exists, from the very first line
    const all = (await screen('10', '?lines=2000').expect(200)).body;
    expect(all.history).toBeLessThan(2000);
    expect(all.lines[0]).toBe('history 1');
    expect(all.lines.slice(all.history)).toEqual(visible);
    expect(all.lines.filter((l: string) => /^history \d+$/.test(l))).toHaveLength(80);
  });

  it('ansi: colour escapes are removed by default and kept with ansi=true', async () => {
    const plain = (await screen('10', '?ansi=false').expect(200)).body;
    expect(plain.lines.join('\n')).not.toContain(ESC);
    const coloured = (await screen('10', '?ansi=true').expect(200)).body;
    expect(coloured.ansi).toBe(true);
    expect(coloured.lines.find((l: string) => l.startsWith('plain'))).toMatch(
      new RegExp(`^plain ${ESC}\\[31mred${ESC}\\[[0-9;]*m end`),
    );
    expect(coloured.lines.at(-1)).toBe('cursor>'); // a line of escapes alone is blank: trimmed
  });

  it('invalid UTF-8 never reaches the body as anything but U+FFFD (tmux 3.3a drops it)', async () => {
    const b = (await screen('10').expect(200)).body;
    const line = b.lines.find((l: string) => l.startsWith('bad')) as string;
    expect(line).toMatch(/^bad \uFFFD* mid é ok$/);
    expect(line).not.toMatch(/[\uD800-\uDFFF]/); // no lone surrogate either
  });

  it('a dead pane (remain-on-exit) answers with its last screen and status error', async () => {
    const b = (await screen('11').expect(200)).body;
    expect(b.status).toBe('error');
    expect(b.lines).toContain('last');
    expect(b.lines.some((l: string) => l.startsWith('cursor>'))).toBe(true);
  });

  it('the /session alias and every reference form answer the same pane', async () => {
    for (const ref of [s.sessionId, s.shortId, s.tmuxSession]) {
      const b = (await request(t.http).get(`/session/${ref}/agents/00/screen`).expect(200)).body;
      expect(b).toMatchObject({
        sessionId: s.sessionId,
        agentId: '00',
        paneId: await paneOf('00'),
      });
    }
  });

  it.each([
    ['x1', '', 'path', 'agentId', 'pattern'],
    ['123', '', 'path', 'agentId', 'pattern'],
    ['1', '', 'path', 'agentId', 'pattern'],
    ['10', '?lines=2001', 'query', 'lines', 'range'],
    ['10', '?lines=-1', 'query', 'lines', 'range'],
    ['10', '?lines=1.5', 'query', 'lines', 'range'],
    ['10', '?lines=1e3', 'query', 'lines', 'range'],
    ['10', '?lines=1&lines=2', 'query', 'lines', 'duplicate_param'],
    ['10', '?ansi=yes', 'query', 'ansi', 'enum'],
    ['10', '?ansi=TRUE', 'query', 'ansi', 'enum'],
    ['10', '?ansi=1', 'query', 'ansi', 'enum'],
  ])('400: agent %j query %j is %s %s %s', async (agent, query, location, field, rule) => {
    const res = await screen(agent, query).expect(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.details.issues).toEqual([
      expect.objectContaining({
        location,
        field,
        rule,
        ...(location === 'path' ? { received: agent } : {}),
      }),
    ]);
  });

  it('400 for a malformed session reference, 404 for an unknown one', async () => {
    const bad = await screen('10', '', 'MAS-1234').expect(400);
    expect(bad.body.details.issues[0]).toMatchObject({ location: 'path', field: 'sessionId' });
    const long = await screen('10', '', 'a'.repeat(40)).expect(400);
    expect(long.body.details.issues[0].rule).toBe('length');
    const none = await screen('10', '', '0000aaaa').expect(404);
    expect(none.body).toMatchObject({
      code: 'SESSION_NOT_FOUND',
      details: { sessionId: '0000aaaa' },
    });
  });

  it('404 AGENT_NOT_FOUND not_in_roster for an agent the session does not have', async () => {
    const res = await screen('22').expect(404);
    expect(res.body).toMatchObject({
      code: 'AGENT_NOT_FOUND',
      details: { agentId: '22', reason: 'not_in_roster' },
    });
  });

  it('404 AGENT_NOT_FOUND pane_missing for a roster agent whose pane is gone', async () => {
    await server.ok('kill-pane', '-t', await paneOf('12'));
    await waitFor(
      async () => (await agents()).find((a) => a.agentId === '12')?.reason === 'pane_missing',
    );
    const res = await screen('12').expect(404);
    expect(res.body).toMatchObject({
      code: 'AGENT_NOT_FOUND',
      details: { agentId: '12', reason: 'pane_missing' },
    });
  });

  it('R14: a pane that vanishes between the snapshot and the capture is 404 pane_missing, not 500', async () => {
    const pane = await paneOf('13');
    await screen('13').expect(200); // the cached snapshot now names the pane
    await server.ok('kill-pane', '-t', pane);
    const res = await screen('13').expect(404);
    expect(res.body.details).toEqual({ agentId: '13', reason: 'pane_missing' });
    await expect(t.gateway.paneScreen('%99999', 0, false)).rejects.toMatchObject({
      code: 'TMUX_GONE',
    });
  });

  /** R7: the request's agent id and session reference never reach tmux; the pane id is the target. */
  const noRequestText = (args: string[]) => {
    for (const a of args) {
      expect(a).not.toBe('10');
      expect(a).not.toContain(s.shortId);
    }
  };
  const checkScreenCommands = (cmds: string[][], pane: string) => {
    expect(cmds.map((c) => c[0])).toEqual(['capture-pane', 'display-message', 'capture-pane']);
    for (const c of cmds) expect(c.filter((_a, i) => c[i - 1] === '-t')).toEqual([pane]);
    noRequestText(cmds.flat());
  };

  it('R7: no request text reaches tmux, forked or over the control client; pane id targets only', async () => {
    const runner = t.app.get<TmuxRunner>(TMUX_RUNNER);
    const pane = await paneOf('10');
    // forked: the control client is closed, so the read forks one tmux client
    t.gateway.control?.close();
    const fork = jest.spyOn(runner, 'run');
    try {
      const before = t.gateway.calls;
      await screen('10', '?lines=7&ansi=true', s.tmuxSession).expect(200);
      expect(t.gateway.calls - before).toBeLessThanOrEqual(2); // the capture, maybe a list refresh
      const argvs = fork.mock.calls.map(([args]) => args);
      const capture = argvs.find((a) => a.includes('capture-pane'))!;
      const cmds = capture.join('\0').split('\0;\0');
      checkScreenCommands(
        cmds.map((c) => c.split('\0')),
        pane,
      );
      for (const args of argvs) noRequestText(args);
    } finally {
      fork.mockRestore();
    }
  });

  it('one control-mode round trip when a control client runs, same screen as a fork', async () => {
    const forked = (await screen('10', '?lines=5&ansi=true').expect(200)).body;
    // a message attaches the control client to this session (decision 0006)
    await request(t.http)
      .post('/message')
      .send({ session: s.tmuxSession, target: '00', message: 'x', execute: false })
      .expect(200);
    expect(t.gateway.control?.up).toBe(true);
    const run = jest.spyOn(t.gateway.control!, 'run');
    try {
      const before = t.gateway.calls;
      const viaControl = (await screen('10', '?lines=5&ansi=true').expect(200)).body;
      expect(t.gateway.calls).toBe(before); // nothing forked for the capture
      const lines = run.mock.calls.map(([cmds]) => cmds).filter((c) => c[0][0] === 'capture-pane');
      expect(lines).toHaveLength(1);
      checkScreenCommands(lines[0], await paneOf('10'));
      expect({ ...viaControl, capturedAt: 0 }).toEqual({ ...forked, capturedAt: 0 });
    } finally {
      run.mockRestore();
    }
  });

  it('a pane that dies is never shown dead yet `running`, however fresh the snapshot cache', async () => {
    expect((await screen('10').expect(200)).body.status).toBe('running'); // the cache names it running
    await server.ok('send-keys', '-t', await paneOf('10'), 'C-d'); // EOF: the agent's cat exits 0
    const dead = await waitFor(async () => {
      // T-77: tmux 3.3a may leave the exited process unreaped (no "Pane is dead" line yet) until
      // another child exits; run-shell makes it reap
      await server.ok('run-shell', 'true');
      const b = (await screen('10').expect(200)).body;
      return b.lines.some((l: string) => l.includes('Pane is dead')) && b; // tmux's remain-on-exit line
    });
    expect(dead.status).toBe('stopped');
    expect(dead.lines).toContain('last'); // the last screen is still there
  });

  it('409 SESSION_TERMINATED (restorable) once the session is stopped', async () => {
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    const res = await screen('10').expect(409);
    expect(res.body).toMatchObject({
      code: 'SESSION_TERMINATED',
      details: { sessionId: s.sessionId, restorable: true },
    });
  });
});

describe('screen: token and the observe rate budget (A7)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_API_TOKEN: 's3cret', MAS_RATE_LIMIT_OBSERVE: '3' });
  });
  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('401 without the token; the budget is observe, shared by 401s, and not `other`', async () => {
    const url = '/sessions/0000aaaa/agents/10/screen';
    const none = await request(t.http).get(url).expect(401);
    expect(none.body.code).toBe('UNAUTHORIZED');
    const auth = { Authorization: 'Bearer s3cret' };
    await request(t.http).get(url).set(auth).expect(404); // authenticated: reaches the lookup
    await request(t.http).get('/session/0000aaaa/agents/10/screen').set(auth).expect(404);
    const limited = await request(t.http).get(url).set(auth).expect(429);
    expect(limited.body.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await request(t.http).get('/sessions').set(auth).expect(200); // another budget
  });
});
