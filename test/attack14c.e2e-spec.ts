import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { parseExposition } from './support/prom-text';
import { SseClient, type SseEvent } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/** Agent 11 prints a tick every 0.1 s (always `working`); 00 and 10 print one line and go quiet. */
const AGENT = path.join(__dirname, 'support', 'reattach-agent');
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};
type Created = { sessionId: string; shortId: string; tmuxSession: string };
type Agent = { agentId: string; status: string; activity: string };

describe('A14c: observation under a changing world (e2e, real tmux, §10.2–§10.6)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  const clients: SseClient[] = [];

  const create = async () =>
    (await request(t.http).post('/runs').send(TEAM).expect(201)).body as Created;
  const agents = async (id: string): Promise<Record<string, Agent>> => {
    const b = (await request(t.http).get(`/sessions/${id}/agents`).expect(200)).body;
    return Object.fromEntries(b.agents.map((a: Agent) => [a.agentId, a]));
  };
  const agentEvents = (c: SseClient, sid: string, agentId: string) =>
    c.of('agent').filter((e) => e.data.sessionId === sid && e.data.agentId === agentId);
  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: AGENT,
      // the fake agent is a shell script: name it an agent process so its panes count as running
      MAS_AGENT_PROCESS_NAMES: 'sh',
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_ACTIVITY_IDLE_MS: '500',
    });
  }, 30000);

  afterEach(() => {
    for (const c of clients.splice(0)) c.close();
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('A14c-1: an activity change (unknown → working, working → idle) emits an `agent` event (§10.3 "status or activity change")', async () => {
    const c = await SseClient.open(t.http, '/events?types=agent');
    clients.push(c);
    const s = await create();
    // detail shows the change: 10 printed its line and went quiet, 11 keeps printing
    await waitFor(async () => {
      const a = await agents(s.sessionId);
      return a['10'].activity === 'idle' && a['11'].activity === 'working';
    }, 8000);
    // the watcher diffs every 0.5 s and external changes reach /events within 2 s (§10.6)
    const seen = (agentId: string, activity: string) => (e: SseEvent) =>
      e.data.sessionId === s.sessionId &&
      e.data.agentId === agentId &&
      e.data.activity === activity;
    await waitFor(() => c.events.some(seen('11', 'working')), 3000).catch(() => undefined);
    await waitFor(() => c.events.some(seen('10', 'idle')), 3000).catch(() => undefined);
    const trail = (id: string) => agentEvents(c, s.sessionId, id).map((e) => e.data.activity);
    expect({ '10': trail('10'), '11': trail('11') }).toEqual({
      '10': expect.arrayContaining(['idle']),
      '11': expect.arrayContaining(['working']),
    });
    // one event per change, not one per tick: 11 prints 10 times a second and stays working
    expect(trail('11').filter((a) => a === 'working').length).toBe(1);
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
  }, 30000);

  it('A14c-2 (doubtful reading): /metrics mas_sessions and mas_agents agree with list after a stop through the API and after a session killed by hand (§10.5, R2)', async () => {
    const gauge = async (name: string, labels: Record<string, string>) => {
      const text = (await request(t.http).get('/metrics').expect(200)).text;
      return parseExposition(text)
        .samples.filter(
          (x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v),
        )
        .reduce((n, x) => n + x.value, 0);
    };
    const scrape = async () => ({
      inactive: await gauge('mas_sessions', { status: 'inactive' }),
      running: await gauge('mas_agents', { status: 'running' }),
    });
    const listed = async () => ({
      inactive: (await request(t.http).get('/sessions?status=inactive').expect(200)).body.total,
      running: 0,
    });
    const a = await create();
    await waitFor(async () => (await agents(a.sessionId))['11'].activity === 'working', 8000);
    await listed();
    expect((await scrape()).inactive).toBeGreaterThanOrEqual(1);
    // 1. the service's own stop: writes are "always visible at once" (docs/operations.md)
    await request(t.http).post(`/sessions/${a.sessionId}/stop`).send({ force: true }).expect(200);
    await new Promise((r) => setTimeout(r, 2500));
    const afterStop = await scrape();
    const listAfterStop = await listed();
    // 2. a session killed by hand: longer than the cache TTL (2 s) and §10.6's 2 s, only scrapes meanwhile
    const b = await create();
    await waitFor(async () => (await agents(b.sessionId))['11'].activity === 'working', 8000);
    await listed();
    await server.ok('kill-session', '-t', `=${b.tmuxSession}`);
    await new Promise((r) => setTimeout(r, 3500));
    const afterKill = await scrape();
    const listAfterKill = await listed();
    expect({ afterStop, afterKill }).toEqual({
      afterStop: listAfterStop,
      afterKill: listAfterKill,
    });
  }, 40000);
});

describe('A14c: an agent that prints and exits at once (e2e, real tmux, §10.2)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let dir: string;
  /** Every agent prints 400 numbered lines (about 43 KB) and `end>`; the workers then exit 3. */
  const EXITING = ['11', '12', '13', '14', '15'];
  const SCRIPT = [
    '#!/bin/sh',
    'stty -echo 2>/dev/null',
    'i=0',
    'while [ "$i" -lt 400 ]; do printf \'line %04d %0100d\\n\' "$i" 0; i=$((i + 1)); done',
    "printf 'end>'",
    'case "$MAS_AGENT_ID" in 1[1-5]) exit 3 ;; esac',
    'exec cat >/dev/null',
    '',
  ].join('\n');

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/a14c-'));
    const agent = path.join(dir, 'exit-agent');
    writeFileSync(agent, SCRIPT, { mode: 0o755 });
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Creates the team, waits for the workers to have exited, and reads each worker's screen and transcript. */
  const printAndExit = async () => {
    const team = {
      agents: {
        metaManager: teamAgent('00'),
        units: [
          { unitId: 1, manager: teamAgent('10'), workers: EXITING.map((id) => teamAgent(id)) },
        ],
      },
    };
    const s = (await request(t.http).post('/runs').send(team).expect(201)).body as Created;
    const read = async (agentId: string) =>
      (
        await request(t.http)
          .get(
            `/sessions/${s.sessionId}/agents/${agentId}/output?from=0&limit=1048576&format=base64`,
          )
          .expect(200)
      ).body as { data: string; end: number; gaps: { offset: number }[] };
    const text = async (agentId: string) =>
      Buffer.from((await read(agentId)).data, 'base64').toString('latin1');
    await waitFor(async () => (await text('10')).includes('end>'), 15000);
    await waitFor(async () => {
      const b = (await request(t.http).get(`/sessions/${s.sessionId}/agents`).expect(200)).body;
      return b.agents.filter((a: Agent) => a.status === 'error').length === EXITING.length;
    }, 15000);
    const workers = [];
    for (const id of EXITING) {
      const screen = (
        await request(t.http).get(`/sessions/${s.sessionId}/agents/${id}/screen`).expect(200)
      ).body;
      const onScreen = [...(screen.lines as string[])]
        .reverse()
        .find((l) => l.startsWith('line '))!;
      const transcript = await text(id);
      const inTranscript = transcript
        .split('\r\n')
        .filter((l) => l.startsWith('line '))
        .pop();
      const endOnScreen = (screen.lines as string[]).some((l) => l.includes('end>'));
      workers.push({ id, onScreen, endOnScreen, inTranscript, output: await read(id) });
    }
    return workers;
  };

  it('A14c-3: a worker that printed 43 KB and exited at once: whatever its transcript lacks, a gap at its end says so (§10.2)', async () => {
    for (const w of await printAndExit()) {
      if (w.inTranscript?.slice(0, 9) === w.onScreen.slice(0, 9)) continue;
      // bytes tmux showed that no %output carried: never silently missing
      expect(w.output.gaps.map((g) => g.offset)).toContain(w.output.end);
    }
  }, 60000);

  // Was a known defect (decision 0008): tmux 3.3a discards output queued for a control client once
  // the pane's process has exited (control.c), about 40 % of a 43 KB print-and-exit on this machine.
  // Capture now reads each agent pane's pipe-pane, which tmux drains before it destroys the pane.
  // What tmux itself never read is on no screen and in no pipe: under load, tmux 3.3a can close a
  // pane's pty with bytes the kernel had not yet handed over (decision 0008, measured); then the
  // transcript stops exactly where the screen does.
  it('A14c-3: what tmux showed on an exited worker\'s screen is all in its transcript, byte for byte, no gap (§10.2 "everything each agent\'s pane writes")', async () => {
    const workers = await printAndExit();
    // the screen's last line may end in tmux's own "Pane is dead" where the output stopped
    const shown = (l: string) => l.split('Pane is dead')[0].slice(0, 9);
    expect(workers.map((w) => w.inTranscript?.slice(0, 9))).toEqual(
      workers.map((w) => shown(w.onScreen)),
    );
    const line = (i: number) => `line ${String(i).padStart(4, '0')} ${'0'.repeat(100)}\r\n`;
    const whole = Array.from({ length: 400 }, (_, i) => line(i)).join('') + 'end>';
    for (const w of workers) {
      const got = Buffer.from(w.output.data, 'base64').toString('latin1');
      const expected = w.endOnScreen ? whole : whole.slice(0, got.length);
      expect({ id: w.id, exact: got === expected, gaps: w.output.gaps }).toEqual({
        id: w.id,
        exact: true,
        gaps: [],
      });
    }
  }, 60000);
});
