import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { EventBus } from '../src/core/event-bus';
import { createTestApp, type TestApp } from './support/create-test-app';
import { SseClient, type SseEvent } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const AGENT = path.join(__dirname, 'support', 'output-agent');
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};
const IDS = ['00', '10', '11'];

const seqOf = (e: SseEvent) => Number(e.id!.split('-')[1]);

/** An agent's output events and output gaps, in order: each must start where the one before ended. */
const ranges = (c: SseClient, sessionId: string, agentId: string) =>
  c.events.filter(
    (e) =>
      (e.event === 'output' || (e.event === 'gap' && e.data.agentId !== undefined)) &&
      e.data.sessionId === sessionId &&
      e.data.agentId === agentId,
  );
const expectContiguous = (list: SseEvent[], start?: number) => {
  if (start !== undefined && list.length) expect(list[0].data.from).toBe(start);
  for (let i = 1; i < list.length; i++) expect(list[i].data.from).toBe(list[i - 1].data.next);
};

describe('GET /events output (e2e, real tmux, §10.3 output)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const clients: SseClient[] = [];
  // the workspace outlives the first service: the restart test starts a second one on it
  const workspace = realpathSync(mkdtempSync('/tmp/mw-'));
  const env = {
    MAS_WORKSPACE_ROOT: workspace,
    MAS_AGENT_COMMAND: AGENT,
    MAS_PROMPT_DELAY_MS: '1000',
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
  };
  const open = async (p: string, headers: Record<string, string> = {}, paused = false) => {
    const c = await SseClient.open(t.http, p, headers, { paused });
    clients.push(c);
    return c;
  };
  const raw = async (agentId: string, from: number, next: number) => {
    const r = await request(t.http)
      .get(`/sessions/${s.shortId}/agents/${agentId}/output?from=${from}&limit=${next - from}`)
      .expect(200);
    expect(r.body.next).toBe(next);
    return r.body.data as string;
  };
  const end = async (agentId: string) =>
    (
      await request(t.http)
        .get(`/sessions/${s.shortId}/agents/${agentId}/output?limit=1`)
        .expect(200)
    ).body.end as number;
  /** Types a line into an agent's pane (its answer is the output under test). */
  const type = async (agentId: string, line: string) => {
    const pane = agentId === '00' ? 'meta-manager.0' : `unit1.${Number(agentId) - 10}`;
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${pane}`, '-l', line);
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${pane}`, 'Enter');
  };
  let first: SseClient;
  /** Output events of agent 11 as the bus published them, with the time. */
  const published: Array<{ at: number; from: number; next: number }> = [];

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, env);
    t.app.get(EventBus).subscribe((e) => {
      if (e.type === 'output' && e.output?.agentId === '11')
        published.push({ at: Date.now(), from: e.output.from, next: e.output.next });
    });
    first = await open('/events?types=output');
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    await waitFor(
      () =>
        IDS.every((id) =>
          ranges(first, s.sessionId, id).some((e) => String(e.data.data).includes('done>')),
        ),
      30000,
    );
  }, 60000);

  afterEach(() => {
    for (const c of clients.splice(0)) if (c !== first) c.close();
  });

  afterAll(async () => {
    first.close();
    await t.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('output events carry exactly the printed bytes in order, as /output raw reads them', async () => {
    for (const id of IDS) {
      const list = ranges(first, s.sessionId, id);
      expect(list.every((e) => e.event === 'output')).toBe(true);
      expectContiguous(list, 0);
      // the euro sign printed in two writes is never cut between events
      expect(list.some((e) => String(e.data.data).includes('\ufffd'))).toBe(false);
      const text = list.map((e) => e.data.data).join('');
      expect(text.startsWith(`hello ${id}\r\nprice € end\r\n`)).toBe(true);
      const last = list.at(-1)!.data.next as number;
      expect(text).toBe(await raw(id, 0, last));
    }
  });

  it('coalescing: 20,000 small writes give at most one event per 50 ms, each at most 16 KiB', () => {
    const list = ranges(first, s.sessionId, '11');
    const total = (list.at(-1)!.data.next as number) - (list[0].data.from as number);
    expect(total).toBeGreaterThan(140_000);
    for (const e of list)
      expect((e.data.next as number) - (e.data.from as number)).toBeLessThanOrEqual(16 * 1024);
    expect(list.length).toBeLessThan(200); // far fewer events than writes
    expect(published.map((p) => p.from)).toEqual(list.map((e) => e.data.from));
    for (let i = 1; i < published.length; i++)
      expect(published[i].at - published[i - 1].at).toBeGreaterThanOrEqual(49);
  });

  it('resume with Last-Event-ID replays the output still held, continuing where the client stopped', async () => {
    const a = await open('/events?types=output');
    await type('10', 'one');
    const mark = await a.next(
      (e) => e.event === 'output' && String(e.data.data).includes('got one'),
    );
    a.close();
    await type('10', 'two');
    await waitFor(() =>
      ranges(first, s.sessionId, '10').some((e) => String(e.data.data).includes('got two')),
    );
    const b = await open('/events?types=output', { 'Last-Event-ID': mark.id! });
    await b.next((e) => String(e.data.data).includes('got two'));
    const mine = ranges(b, s.sessionId, '10');
    expect(b.of('gap')).toEqual([]);
    expect(mine[0].data.from).toBe(mark.data.next);
    expectContiguous(mine);
    // exactly what the witness got after the mark
    const witness = first.events.filter((e) => e.event === 'output' && seqOf(e) > seqOf(mark));
    expect(b.events.filter((e) => seqOf(e) <= seqOf(witness.at(-1)!))).toEqual(witness);
  });

  it('output no longer held: one gap expired per agent with the byte range to fetch, then live', async () => {
    const bus = t.app.get(EventBus);
    const a = await open('/events?types=output');
    await type('10', 'before');
    const mark = await a.next(
      (e) => e.event === 'output' && String(e.data.data).includes('got before'),
    );
    a.close();
    const saved = bus.outputRing.maxBytes;
    bus.outputRing.maxBytes = 4096;
    try {
      await type('10', 'many'); // 30 KB: far beyond the ring
      await type('00', 'many');
      await waitFor(async () => (await end('10')) >= (mark.data.next as number) + 30_000);
      await waitFor(() =>
        ranges(first, s.sessionId, '00').some((e) => String(e.data.data).includes('M0299')),
      );
      await waitFor(() =>
        ranges(first, s.sessionId, '10').some((e) => String(e.data.data).includes('M0299')),
      );
      const b = await open(`/events?types=output&sessionId=${s.shortId}`, {
        'Last-Event-ID': mark.id!,
      });
      await waitFor(() => b.of('gap').length >= 2);
      const gaps = b.of('gap');
      expect(gaps.map((g) => g.data.agentId).sort()).toEqual(['00', '10']);
      for (const g of gaps)
        expect(g.data).toMatchObject({ reason: 'expired', sessionId: s.sessionId });
      const g10 = gaps.find((g) => g.data.agentId === '10')!;
      expect(g10.data.from).toBe(mark.data.next);
      // the gap, then what is held, then live: contiguous
      await type('10', 'after');
      await b.next((e) => String(e.data.data ?? '').includes('got after'));
      const mine = ranges(b, s.sessionId, '10');
      expectContiguous(mine, mark.data.next as number);
      // the range fetched from /output plus the events equal what the witness saw
      const fetched = await raw('10', g10.data.from as number, g10.data.next as number);
      const got =
        fetched +
        mine
          .slice(1)
          .map((e) => e.data.data)
          .join('');
      const seen = ranges(first, s.sessionId, '10').filter(
        (e) => (e.data.from as number) >= (mark.data.next as number),
      );
      await waitFor(() =>
        ranges(first, s.sessionId, '10').some((e) => String(e.data.data).includes('got after')),
      );
      expect(got).toBe(
        ranges(first, s.sessionId, '10')
          .filter((e) => (e.data.from as number) >= (mark.data.next as number))
          .map((e) => e.data.data)
          .join(''),
      );
      expect(seen.length).toBeGreaterThan(0);
    } finally {
      bus.outputRing.maxBytes = saved;
    }
  }, 30000);

  it('a client that never reads: its output queue is bounded; reading again, one gap slow_consumer per agent with the range, then live', async () => {
    const bus = t.app.get(EventBus);
    const c = await open('/events?types=output&sessionId=' + s.shortId, {}, true);
    await waitFor(() => bus.outputWanted && bus.subscribers >= 2);
    const dropped0 = bus.dropped.get('slow_consumer') ?? 0;
    const rss0 = process.memoryUsage().rss;
    const pad = 'p'.repeat(10_000);
    const next = { '90': 0, '91': 0 };
    // ~40 MB of output offered: far beyond socket buffers plus the 1 MiB queue
    for (let i = 0; i < 2000; i++)
      for (const a of ['90', '91'] as const) {
        bus.publishOutput(
          { sessionId: s.sessionId, agentId: a, from: next[a], next: next[a] + 10_000 },
          pad,
        );
        next[a] += 10_000;
      }
    expect(process.memoryUsage().rss - rss0).toBeLessThan(64 * 1024 * 1024);
    expect(c.ended).toBe(false); // output never disconnects
    c.read();
    for (const a of ['90', '91'] as const)
      await waitFor(() => ranges(c, s.sessionId, a).some((e) => e.event === 'gap'));
    for (const a of ['90', '91'] as const) {
      bus.publishOutput(
        { sessionId: s.sessionId, agentId: a, from: next[a], next: next[a] + 4 },
        'live',
      );
      next[a] += 4;
    }
    // every event was either delivered or dropped (counted; other streams may drop too), and what
    // was delivered is the bound: the 1 MiB queue, a little of Node's buffer, the socket buffers
    const dropped = (bus.dropped.get('slow_consumer') ?? 0) - dropped0;
    const delivered = c.events.filter((e) => e.event === 'output' && e.data.data === pad).length;
    expect(delivered + dropped).toBeGreaterThanOrEqual(4000);
    expect(delivered * 10_000).toBeLessThan(4 * 1024 * 1024);
    for (const a of ['90', '91'] as const) {
      await waitFor(() => ranges(c, s.sessionId, a).some((e) => e.data.data === 'live'));
      const mine = ranges(c, s.sessionId, a);
      expect(mine.filter((e) => e.event === 'gap')).toHaveLength(1);
      expect(mine.find((e) => e.event === 'gap')!.data).toMatchObject({ reason: 'slow_consumer' });
      expectContiguous(mine, 0);
      expect(mine.at(-1)!.data.next).toBe(next[a]);
    }
    const metrics = (await request(t.http).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/mas_events_dropped_total\{reason="slow_consumer"\} [1-9]/);
  }, 60000);

  it('service restart mid-stream: Last-Event-ID of the old process gives gap restarted, the transcript records the gap, output goes on', async () => {
    const a = await open('/events?types=output');
    await type('10', 'pre');
    const mark = await a.next(
      (e) => e.event === 'output' && String(e.data.data).includes('got pre'),
    );
    first.close();
    await t.close();
    // printed while no service runs: not captured, a gap in the transcript
    await type('10', 'while-down');
    t = await createTestApp(server, env);
    const b = await open('/events?types=output', { 'Last-Event-ID': mark.id! });
    const gap = await b.next((e) => e.event === 'gap');
    expect(gap.data).toMatchObject({ reason: 'restarted' });
    const state = path.join(t.workspace, 'sessions', s.sessionId, 'output', '10.json');
    await waitFor(() => JSON.parse(readFileSync(state, 'utf8')).gaps.length > 0, 20000);
    expect(JSON.parse(readFileSync(state, 'utf8')).gaps[0]).toMatchObject({
      offset: mark.data.next,
    });
    await type('10', 'back');
    const back = await b.next(
      (e) => e.event === 'output' && String(e.data.data).includes('got back'),
      15000,
    );
    expect(back.data.from).toBe(mark.data.next);
    first = b;
  }, 60000);
});
