import { mkdtempSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TranscriptStartup } from '../src/core/transcript/transcript-startup';
import { SseClient } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const AGENT = path.join(__dirname, 'support', 'transcript-agent');
const MAX = 64 * 1024;

/** 00 and unit 1 (10-13) run the transcript agent; 13 prints 200 KB, past two rollovers. */
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

/** What the terminal received from the agent: its bytes after the tty's `\n` → `\r\n`. */
const printed = (id: string): Buffer => {
  const big =
    id === '13'
      ? Array.from(
          { length: 200 },
          (_, i) => `L${String(i + 1).padStart(4, '0')}${'0'.repeat(994)}\r\n`,
        ).join('')
      : '';
  return Buffer.from(`hello ${id}\r\na \x1b[1mbold\x1b[0m b\r\nprice € end\r\n${big}done>`);
};

describe('GET /sessions/:id/agents/:agentId/output (e2e, real tmux, §10.2)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  // the workspace outlives the first service process: the restart test starts a second one on it
  const workspace = realpathSync(mkdtempSync('/tmp/mw-'));
  const env = {
    MAS_WORKSPACE_ROOT: workspace,
    MAS_AGENT_COMMAND: AGENT,
    // the prompt is typed once the agent has turned echo off, so it never shows in the transcript
    MAS_PROMPT_DELAY_MS: '1000',
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
    MAS_OUTPUT_MAX_BYTES: String(MAX),
    MAS_ACTIVITY_IDLE_MS: '500',
  };
  const output = (agent: string, query = '', app = t) =>
    request(app.http).get(`/sessions/${s.shortId}/agents/${agent}/output${query}`);
  const all = async (agent: string, app = t): Promise<Buffer> => {
    const b = (await output(agent, '?from=0&limit=1048576&format=base64', app).expect(200)).body;
    return Buffer.from(b.data, 'base64');
  };
  const outDir = () => path.join(t.workspace, 'sessions', s.sessionId, 'output');

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, env);
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    for (const id of ['00', '10', '11', '12', '13'])
      await waitFor(async () => (await all(id)).toString().includes('done>'), 20000);
  }, 60000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('transcript is byte-exact: base64 equals what the terminal received, from the first byte', async () => {
    for (const id of ['00', '10', '12'])
      expect(JSON.stringify((await all(id)).toString('latin1'))).toBe(
        JSON.stringify(printed(id).toString('latin1')),
      );
    // 11 goes on printing dots after the same start
    expect((await all('11')).subarray(0, printed('11').length).equals(printed('11'))).toBe(true);
  });

  it('a multi-byte character split across two writes reads whole in raw and text', async () => {
    const raw = (await output('10', '?from=0').expect(200)).body;
    expect(raw).toMatchObject({ from: 0, start: 0, format: 'raw', truncated: false, gaps: [] });
    expect(raw.data).toBe(printed('10').toString('utf8'));
    expect(raw.next).toBe(raw.end);
    const text = (await output('10', '?from=0&format=text').expect(200)).body;
    expect(text.data).toBe('hello 10\na bold b\nprice € end\ndone>');
    // a `from` inside the euro sign moves forward to the next character
    const euro = printed('10').indexOf(Buffer.from('€'));
    const mid = (await output('10', `?from=${euro + 1}&limit=4`).expect(200)).body;
    expect(mid).toMatchObject({ from: euro + 3, data: ' end' });
    // a limit smaller than the character still advances by one whole character
    const one = (await output('10', `?from=${euro}&limit=1`).expect(200)).body;
    expect(one).toMatchObject({ from: euro, next: euro + 3, data: '€' });
  });

  it('rollover at a small MAS_OUTPUT_MAX_BYTES keeps one old generation; from before start is truncated', async () => {
    const head = (await output('13', '?from=0&limit=10').expect(200)).body;
    const total = printed('13');
    expect(head.end).toBe(total.length);
    expect(head.start).toBeGreaterThan(0); // two rollovers: the first generation is gone
    expect(head).toMatchObject({ from: head.start, truncated: true });
    const rest = Buffer.from(
      (await output('13', `?from=${head.start}&limit=1048576&format=base64`).expect(200)).body.data,
      'base64',
    );
    expect(rest.equals(total.subarray(head.start))).toBe(true);
    const state = JSON.parse(readFileSync(path.join(outDir(), '13.json'), 'utf8'));
    expect(state.base).toBeGreaterThanOrEqual(2 * MAX);
    expect(statSync(path.join(outDir(), '13.log.1')).size).toBe(state.base - head.start);
    // the tail: at most `limit` bytes before the end
    const tail = (await output('13', '?limit=7').expect(200)).body;
    expect(tail).toMatchObject({ from: total.length - 7, next: total.length, data: '\r\ndone>' });
  });

  it('output directory 0700, files 0600', () => {
    expect(statSync(outDir()).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(outDir(), '10.log')).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(outDir(), '13.json')).mode & 0o777).toBe(0o600);
  });

  it('400 for a bad agent id, from beyond the end (rule range) or malformed; 404 AGENT_NOT_FOUND outside the roster', async () => {
    const end = (await output('10').expect(200)).body.end as number;
    const r = await output('10', `?from=${end + 1}`).expect(400);
    expect(r.body.details.issues[0]).toMatchObject({ field: 'from', rule: 'range' });
    expect((await output('10', `?from=${end}`).expect(200)).body).toMatchObject({
      data: '',
      next: end,
    });
    expect((await output('10', '?from=-1').expect(400)).body.details.issues[0].rule).toBe(
      'pattern',
    );
    expect((await output('10', '?limit=0').expect(400)).body.details.issues[0].rule).toBe('range');
    expect((await output('10', '?format=html').expect(400)).body.details.issues[0].rule).toBe(
      'enum',
    );
    expect((await output('1x').expect(400)).body.details.issues[0].rule).toBe('pattern');
    const nf = await output('21').expect(404);
    expect(nf.body).toMatchObject({
      code: 'AGENT_NOT_FOUND',
      details: { reason: 'not_in_roster' },
    });
  });

  it('404 TRANSCRIPT_NOT_FOUND for a session without a session directory (source tmux)', async () => {
    const id = 'fee1dead-0b76-4071-ad8d-d5d075397ec3';
    await server.ok('new-session', '-d', '-s', 'mas-fee1dead', 'sleep 600');
    await server.ok('set-option', '-t', '=mas-fee1dead:', '@mas_session_id', id);
    await server.ok('set-option', '-t', '=mas-fee1dead:', '@mas_workspace', workspace);
    await waitFor(async () => (await request(t.http).get(`/sessions/${id}`)).status === 200, 5000);
    const r = await request(t.http).get(`/sessions/${id}/agents/00/output`).expect(404);
    expect(r.body).toMatchObject({ code: 'TRANSCRIPT_NOT_FOUND', details: { source: 'tmux' } });
    await server.ok('kill-session', '-t', '=mas-fee1dead');
  });

  it('activity (§10.4): working while the pane prints, idle once quiet, on detail, agents, /status and screen', async () => {
    const act = async () => {
      const d = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
      return Object.fromEntries(
        d.agents.map((a: { agentId: string; activity: string; lastOutputAt: string | null }) => [
          a.agentId,
          a,
        ]),
      );
    };
    await waitFor(async () => (await act())['10'].activity === 'idle', 5000);
    const a = await act();
    expect(a['11']).toMatchObject({ activity: 'working', lastOutputAt: expect.any(String) });
    expect(a['10']).toMatchObject({ activity: 'idle', lastOutputAt: expect.any(String) });
    expect(Date.now() - Date.parse(a['11'].lastOutputAt)).toBeLessThan(5000);
    const agents = (await request(t.http).get(`/sessions/${s.sessionId}/agents`).expect(200)).body;
    expect(agents.agents.find((x: { agentId: string }) => x.agentId === '11').activity).toBe(
      'working',
    );
    const status = (await request(t.http).get(`/status?sessionId=${s.sessionId}`).expect(200)).body;
    expect(status.agents.find((x: { id: string }) => x.id === '10')).toMatchObject({
      activity: 'idle',
      lastOutputAt: expect.any(String),
    });
    const screen = (
      await request(t.http).get(`/sessions/${s.shortId}/agents/11/screen`).expect(200)
    ).body;
    expect(screen.activity).toBe('working');
  });

  it('activity changes are agent events (§10.3, §10.4): working while printing, idle once quiet, one event per change', async () => {
    const clientsBefore = t.gateway.captureNames.size;
    const c = await SseClient.open(t.http, '/events?types=agent');
    try {
      const s2 = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
      const of = (id: string) =>
        c.of('agent').filter((e) => e.data.sessionId === s2.sessionId && e.data.agentId === id);
      // 10 prints its lines and falls quiet; 11 prints a dot every 0.2 s
      await waitFor(() => of('10').some((e) => e.data.activity === 'idle'), 15000);
      await waitFor(() => of('11').some((e) => e.data.activity === 'working'), 15000);
      await new Promise((r) => setTimeout(r, 1500)); // time for any repeated event to show
      for (const id of ['00', '10', '11', '12', '13']) {
        const seen = of(id).map((e) => `${e.data.status}/${e.data.activity}/${e.data.exitStatus}`);
        expect(seen.length).toBeGreaterThan(0);
        // each event is a change: never the same as the one before it for that agent
        seen.forEach((v, i) => i > 0 && expect(v).not.toBe(seen[i - 1]));
      }
      expect(of('10').at(-1)!.data).toMatchObject({ status: 'running', activity: 'idle' });
      // (11's loop runs in sh, which §5.4 reads as a shell: its status is not the point here)
      expect(of('11').at(-1)!.data).toMatchObject({ activity: 'working' });
      const d = (await request(t.http).get(`/sessions/${s2.sessionId}`).expect(200)).body;
      const detail = (id: string) => d.agents.find((a: { agentId: string }) => a.agentId === id);
      expect(detail('10').activity).toBe('idle');
      expect(detail('11').activity).toBe('working');
      await request(t.http).post(`/sessions/${s2.sessionId}/stop`).send({}).expect(200);
      // its capture client's name is forgotten a moment after it ends; later tests read the rest
      await waitFor(() => t.gateway.captureNames.size === clientsBefore, 5000);
    } finally {
      c.close();
    }
  }, 40000);

  it('capture clients run a fixed argv (attach to the $N id, nothing from requests) and feed mas_output_bytes_total', async () => {
    const argvs = [...t.gateway.captureNames].map((name) =>
      readFileSync(`/proc/${name.slice('client-'.length)}/cmdline`, 'utf8')
        .split('\0')
        .filter(Boolean),
    );
    expect(argvs.length).toBeGreaterThan(0);
    for (const argv of argvs)
      expect(argv.slice(-4)).toEqual([
        '-C',
        'attach-session',
        '-t',
        expect.stringMatching(/^\$[0-9]+$/),
      ]);
    const metrics = (await request(t.http).get('/metrics').expect(200)).text;
    expect(Number(/^mas_output_bytes_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(200_000);
  });

  it('a service restart records a gap; capture resumes at the same offset; reads work after stop', async () => {
    const before = (await output('10').expect(200)).body.end as number;
    await t.close();
    // printed while no service runs: not captured, recorded as a gap
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:unit1.0`, 'x', 'Enter');
    t = await createTestApp(server, env);
    await t.app.get(TranscriptStartup).done;
    await waitFor(async () => (await output('10', `?from=${before}`)).body.gaps?.length > 0, 20000);
    const after = (await output('10', `?from=${before}`).expect(200)).body;
    expect(after.gaps).toEqual([
      expect.objectContaining({
        offset: before,
        since: expect.any(String),
        until: expect.any(String),
      }),
    ]);
    // lastOutputAt survives the restart: the time of the quiet agent's last captured byte, not null
    const d = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
    const quiet = d.agents.find((a: { agentId: string }) => a.agentId === '12');
    expect(quiet.lastOutputAt).toBe(statSync(path.join(outDir(), '12.log')).mtime.toISOString());
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    const stopped = (await output('10', '?from=0&format=base64').expect(200)).body;
    expect(
      Buffer.from(stopped.data, 'base64').subarray(0, printed('10').length).equals(printed('10')),
    ).toBe(true);
  });
  it('token and the observe budget apply to /output (stopped session, a service with a token)', async () => {
    await t.close();
    t = await createTestApp(server, {
      ...env,
      MAS_API_TOKEN: 's3cret-tr',
      MAS_RATE_LIMIT_OBSERVE: '4',
    });
    await output('10').expect(401);
    const auth = () => output('10', '?from=0&limit=5').set('Authorization', 'Bearer s3cret-tr');
    for (let i = 0; i < 3; i++) expect((await auth().expect(200)).body.data).toBe('hello');
    await auth().expect(429);
    await t.close();
    t = await createTestApp(server, env);
  });

  it('stop then restore is not a gap: capture resumes at the same offset', async () => {
    const stopped = (await output('10').expect(200)).body;
    await request(t.http)
      .post(`/sessions/${s.sessionId}/restore`)
      .send({ startAgents: true })
      .expect(200);
    const again = printed('10');
    await waitFor(
      async () => (await output('10').expect(200)).body.end >= stopped.end + again.length,
      20000,
    );
    const after = (await output('10', `?from=${stopped.end}&format=base64`).expect(200)).body;
    expect(Buffer.from(after.data, 'base64').subarray(0, again.length).equals(again)).toBe(true);
    const state = JSON.parse(readFileSync(path.join(outDir(), '10.json'), 'utf8'));
    expect(state.gaps).toHaveLength(1); // only the service restart's, none for the stop
  });
});
