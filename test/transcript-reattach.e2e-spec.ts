import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { CaptureService } from '../src/core/transcript/capture.service';
import { createTestApp, type TestApp } from './support/create-test-app';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const AGENT = path.join(__dirname, 'support', 'reattach-agent');
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Gap {
  offset: number;
  since: string;
  until: string;
}

/**
 * §10.2 when the world changes under a capture: its client killed or detached from outside, the
 * tmux server stopped and continued, the session stopped, the service closed with a re-attach due.
 */
describe('transcript capture re-attach (e2e, real tmux, §10.2)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let open = false;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const workspace = realpathSync(mkdtempSync('/tmp/mw-'));
  const env = {
    MAS_WORKSPACE_ROOT: workspace,
    MAS_AGENT_COMMAND: AGENT,
    MAS_PROMPT_DELAY_MS: '300',
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
    MAS_ACTIVITY_IDLE_MS: '500',
  };
  const output = (agent: string, query = '') =>
    request(t.http).get(`/sessions/${s.shortId}/agents/${agent}/output${query}`);
  const all = async (agent: string): Promise<string> => {
    const b = (await output(agent, '?from=0&limit=1048576&format=base64').expect(200)).body;
    return Buffer.from(b.data, 'base64').toString('latin1');
  };
  const gaps = (agent: string): Gap[] => {
    const file = path.join(workspace, 'sessions', s.sessionId, 'output', `${agent}.json`);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).gaps as Gap[]) : [];
  };
  /** The service's capture clients as tmux lists them (A15: known to the service by name). */
  const ours = async (): Promise<{ pid: number; session: string }[]> => {
    const r = await server.tmux('list-clients', '-F', '#{client_pid} #{client_session}');
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' '))
      .filter(([pid]) => t.gateway.captureNames.has(`client-${pid}`))
      .map(([pid, session]) => ({ pid: Number(pid), session }));
  };
  const captureOf = async () => (await ours()).filter((c) => c.session === s.tmuxSession);
  /** Types a line into an agent's pane; the agent answers `got <line>`. */
  const say = async (agent: string, line: string) => {
    const d = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
    const a = d.agents.find((x: { agentId: string }) => x.agentId === agent);
    const pane = `=${s.tmuxSession}:${a.windowIndex}.${a.pane}`;
    await server.ok('send-keys', '-t', pane, '-l', line);
    await server.ok('send-keys', '-t', pane, 'Enter');
  };

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, env);
    open = true;
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    // the startup job is over (its prompts typed or given up) before any marker is printed
    const startup = async () =>
      (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.state;
    await waitFor(async () => (await startup()) !== 'starting', 30000);
    await waitFor(async () => (await all('10')).includes('ready 10\r\n'), 20000);
    await waitFor(async () => (await all('11')).includes('t5\r\n'), 20000);
  }, 60000);

  afterAll(async () => {
    if (open) await t.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  /** Ends the capture client by `how`; then expects a new one, a gap and continuing offsets. */
  const reattachAfter = async (how: (pid: number) => Promise<unknown>, marker: string) => {
    const [old] = await captureOf();
    expect(old).toBeDefined();
    const end = (await output('10').expect(200)).body.end as number;
    const known = gaps('10').length;
    const lost = Date.now();
    await how(old.pid);
    await waitFor(async () => (await captureOf()).some((c) => c.pid !== old.pid), 8000);
    await waitFor(() => gaps('10').length > known, 8000);
    await say('10', marker);
    await waitFor(async () => (await all('10')).includes(`got ${marker}`), 8000);
    const gap = gaps('10')[known];
    expect(gap.offset).toBe(end);
    expect(Date.parse(gap.since)).toBeGreaterThanOrEqual(lost - 1);
    expect(Date.parse(gap.until)).toBeGreaterThanOrEqual(Date.parse(gap.since));
    expect(Date.parse(gap.until)).toBeLessThanOrEqual(Date.now());
    // the bytes printed afterwards sit at the next offset, and reads report the gap there
    const after = (await output('10', `?from=${end}&format=base64`).expect(200)).body;
    expect(Buffer.from(after.data, 'base64').toString()).toBe(`got ${marker}\r\n`);
    expect(after.gaps).toEqual([gap]);
    expect(gaps('11').length).toBeGreaterThan(0); // every agent of the session has the gap
    expect((await captureOf()).length).toBe(1);
  };

  it('a capture client killed from outside is re-attached: later bytes at continuing offsets, a gap for the time', async () => {
    await reattachAfter(async (pid) => process.kill(pid, 'SIGTERM'), 'after-kill');
  });

  it('a capture client detached with tmux detach-client is re-attached the same way', async () => {
    await reattachAfter((pid) => server.ok('detach-client', '-t', `client-${pid}`), 'after-detach');
  });

  it('tmux SIGSTOPped for 2 s while an agent prints: the service answers meanwhile; after SIGCONT the same client captures on, nothing lost', async () => {
    const [client] = await captureOf();
    const ticks = async () =>
      [...(await all('11')).matchAll(/t(\d+)\r\n/g)].map((m) => Number(m[1]));
    const known = gaps('11').length;
    const before = (await ticks()).at(-1)!;
    const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
    process.kill(pid, 'SIGSTOP');
    try {
      const t0 = Date.now();
      await request(t.http).get('/health').expect(200);
      await output('11').expect(200);
      expect(Date.now() - t0).toBeLessThan(1500);
      await sleep(2000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(async () => (await ticks()).at(-1)! > before + 30, 15000);
    const seen = await ticks();
    const run = seen.slice(seen.indexOf(before));
    expect(run).toEqual(run.map((_, i) => before + i)); // every tick, in order: no byte lost
    expect(gaps('11')).toHaveLength(known);
    expect((await captureOf()).map((c) => c.pid)).toEqual([client.pid]);
  }, 40000);

  it('stopping the session: no re-attach, no capture client of ours left', async () => {
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({}).expect(200);
    await waitFor(async () => (await ours()).length === 0, 5000);
    // a re-attach would come within 0.25–1 s: none does
    for (const until = Date.now() + 2000; Date.now() < until; await sleep(100))
      expect(await ours()).toEqual([]);
    expect(t.app.get(CaptureService).isCapturing(s.sessionId)).toBe(false);
  });

  it('a client killed just before the session is stopped: the pending re-attach ends with no client left', async () => {
    await request(t.http).post(`/sessions/${s.sessionId}/restore`).send({}).expect(200);
    await waitFor(async () => (await captureOf()).length === 1, 8000);
    const [old] = await captureOf();
    process.kill(old.pid, 'SIGTERM');
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    await waitFor(async () => (await server.sessionNames()).length === 0, 5000);
    await sleep(1500); // past the first re-attach attempts
    await waitFor(async () => (await ours()).length === 0, 5000);
    expect(t.app.get(CaptureService).isCapturing(s.sessionId)).toBe(false);
  });

  it('the service closing while a re-attach is due starts no client afterwards', async () => {
    await request(t.http).post(`/sessions/${s.sessionId}/restore`).send({}).expect(200);
    await waitFor(async () => (await captureOf()).length === 1, 8000);
    const [old] = await captureOf();
    process.kill(old.pid, 'SIGTERM');
    await waitFor(async () => (await captureOf()).length === 0, 5000);
    await t.close();
    open = false;
    for (const until = Date.now() + 2000; Date.now() < until; await sleep(100)) {
      const r = await server.tmux('list-clients', '-F', '#{client_pid}');
      expect(r.stdout.trim()).toBe('');
    }
  });
});

describe('transcript capture re-attach: ownership (e2e, real tmux, A1, A15)', () => {
  it('after kill-server, a session of another workspace holding the same name and $N on a new server is never attached to', async () => {
    const server = TmuxTestServer.create();
    const t = await createTestApp(server, { MAS_AGENT_COMMAND: AGENT });
    try {
      const s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
      const id = (
        await server.ok('display-message', '-p', '-t', `=${s.tmuxSession}:`, '#{session_id}')
      ).trim();
      await server.tmux('kill-server');
      // one invocation: the session exists only with its foreign tags (retried: the old server may still be exiting)
      await waitFor(
        async () =>
          (
            await server.tmux(
              'new-session',
              '-d',
              '-s',
              s.tmuxSession,
              'sleep 600',
              ';',
              'set-option',
              '-t',
              `=${s.tmuxSession}:`,
              '@mas_session_id',
              s.sessionId,
              ';',
              'set-option',
              '-t',
              `=${s.tmuxSession}:`,
              '@mas_workspace',
              '/elsewhere',
            )
          ).code === 0,
        5000,
      );
      expect(
        (
          await server.ok('display-message', '-p', '-t', `=${s.tmuxSession}:`, '#{session_id}')
        ).trim(),
      ).toBe(id);
      for (const until = Date.now() + 3000; Date.now() < until; await sleep(100)) {
        const r = await server.tmux('list-clients', '-F', '#{client_pid}');
        expect(r.stdout.trim()).toBe('');
      }
    } finally {
      await t.close();
      await server.stop();
    }
  }, 30000);
});

describe('transcript capture re-attach while tmux is stopped (e2e, real tmux, §10.2)', () => {
  it('a client killed while the tmux server is SIGSTOPped is replaced after SIGCONT, with a gap', async () => {
    const server = TmuxTestServer.create();
    const t = await createTestApp(server, { MAS_AGENT_COMMAND: AGENT });
    try {
      const s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
      const output = (q: string) =>
        request(t.http).get(`/sessions/${s.sessionId}/agents/10/output${q}`).expect(200);
      await waitFor(async () => (await output('?from=0')).body.data.includes('ready 10'), 20000);
      const clients = async () => {
        const r = await server.tmux('list-clients', '-F', '#{client_pid} #{client_session}');
        return r.stdout
          .split('\n')
          .filter((l) => t.gateway.captureNames.has(`client-${l.split(' ')[0]}`))
          .map((l) => Number(l.split(' ')[0]));
      };
      const old = await waitFor(async () => (await clients())[0]);
      const end = (await output('')).body.end as number;
      const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
      process.kill(pid, 'SIGSTOP');
      try {
        // the client's pipes stay open until the continued server drops it (tmux hands a control
        // client's stdin and stdout to the server): the service learns of the loss only then
        process.kill(old, 'SIGKILL');
        await sleep(1000);
        await request(t.http).get('/health').expect(200);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await waitFor(async () => (await clients()).some((c) => c !== old), 15000);
      await waitFor(async () => (await output(`?from=${end}`)).body.gaps.length === 1, 8000);
      const after = (await output(`?from=${end}`)).body;
      expect(after.gaps[0]).toMatchObject({ offset: end });
      expect(t.app.get(CaptureService).isCapturing(s.sessionId)).toBe(true);
    } finally {
      await t.close();
      await server.stop();
    }
  }, 60000);
});
