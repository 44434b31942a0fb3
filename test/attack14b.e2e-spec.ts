import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { EventBus } from '../src/core/event-bus';
import { createTestApp, type TestApp } from './support/create-test-app';
import { SseClient, type SseEvent } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/**
 * Fresh-eyes attack on output events (§10.3) against the transcript they mirror (§10.2). The agent
 * is written per run so each finding controls its bytes and their timing: `slow<s>` prints `X`, the
 * first two bytes of a euro sign, waits <s> seconds, then the last byte and `Y`; `tick` prints 150
 * numbered euro signs, each split across two writes 20 ms apart; `cat<path>` prints a file.
 */
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};
const IDS = ['00', '10', '11'];
const AGENT_SCRIPT = [
  '#!/bin/sh',
  'stty -echo 2>/dev/null',
  'printf "ready %s\\n" "$MAS_AGENT_ID"',
  'while IFS= read -r line; do',
  '  case "$line" in',
  '    slow*) printf "X\\342\\202"; sleep "${line#slow}"; printf "\\254Y\\n=%s=\\n" "$line" ;;',
  '    tick) i=0; while [ $i -lt 150 ]; do printf "T%05d \\342\\202" $i; sleep 0.02;' +
    ' printf "\\254 "; i=$((i+1)); done; printf "\\n=tick=\\n" ;;',
  '    cat/*) cat "${line#cat}"; printf "\\n=%s=\\n" "$line" ;;',
  '  esac',
  'done',
  '',
].join('\n');

/** An agent's output events and output gaps, in order. */
const ranges = (c: SseClient, sessionId: string, agentId: string) =>
  c.events.filter(
    (e) =>
      (e.event === 'output' || (e.event === 'gap' && e.data.agentId !== undefined)) &&
      e.data.sessionId === sessionId &&
      e.data.agentId === agentId,
  );
/** Long data compared by length, ends and digest, so a failure stays readable. */
const brief = (d: string) =>
  d.length <= 60
    ? d
    : `${d.slice(0, 12)}…${d.slice(-12)} (${d.length}, ${createHash('sha1').update(d).digest('hex').slice(0, 8)})`;
const joined = (list: SseEvent[]) => list.map((e) => (e.data.data as string) ?? '').join('');

describe('A14b: output events vs the transcript (e2e, real tmux, §10.2–§10.3)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  // made in beforeAll: a run filtered to other specs leaves no directory behind
  let dir: string;
  let workspace: string;
  let agent: string;
  let witness: SseClient;
  let s: { sessionId: string; shortId: string; tmuxSession: string };

  const paneOf = (agentId: string) =>
    agentId === '00' ? 'meta-manager.0' : `unit1.${Number(agentId) - 10}`;
  const type = async (agentId: string, line: string) => {
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${paneOf(agentId)}`, '-l', line);
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${paneOf(agentId)}`, 'Enter');
  };
  const read = async (agentId: string, from: number, limit: number) =>
    (
      await request(t.http)
        .get(`/sessions/${s.shortId}/agents/${agentId}/output?from=${from}&limit=${limit}`)
        .expect(200)
    ).body as { from: number; next: number; data: string };
  /** Types `line`, waits for its end marker, returns the agent's events that came with it. */
  const run = async (agentId: string, line: string) => {
    const before = ranges(witness, s.sessionId, agentId).length;
    await type(agentId, line);
    await waitFor(() => joined(ranges(witness, s.sessionId, agentId)).includes(`=${line}=`), 20000);
    return ranges(witness, s.sessionId, agentId).slice(before);
  };
  /** Each event reads exactly as /output raw reads its own range (same from, next and data). */
  const expectAsTranscript = async (agentId: string, list: SseEvent[]) => {
    const seen: unknown[] = [];
    const want: unknown[] = [];
    for (const e of list) {
      const from = e.data.from as number;
      const r = await read(agentId, from, (e.data.next as number) - from);
      seen.push([from, e.data.next, brief(e.data.data as string)]);
      want.push([r.from, r.next, brief(r.data)]);
    }
    expect(seen).toEqual(want);
  };

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync('/tmp/a14b-'));
    workspace = realpathSync(mkdtempSync('/tmp/mw-'));
    agent = path.join(dir, 'agent');
    writeFileSync(agent, AGENT_SCRIPT);
    chmodSync(agent, 0o755);
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: workspace,
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
    witness = await SseClient.open(t.http, '/events?types=output');
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    await waitFor(
      () => IDS.every((id) => joined(ranges(witness, s.sessionId, id)).includes(`ready ${id}`)),
      30000,
    );
  }, 60000);

  afterAll(async () => {
    witness.close();
    await t.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('A14b-1: a character whose last byte comes 1 s after its first is never cut between output events (whole characters, as /output reads it)', async () => {
    const list = await run('10', 'slow1');
    for (let i = 1; i < list.length; i++) expect(list[i].data.from).toBe(list[i - 1].data.next);
    // the file holds a valid euro sign: /output reads `X€Y`, so must the events
    expect(joined(list)).toContain('X€Y');
    expect(joined(list)).not.toContain('\ufffd');
    await expectAsTranscript('10', list);
  }, 30000);

  it('A14b-1b: tmux SIGSTOPped 1.5 s while an agent prints split characters: after SIGCONT no event holds a cut character', async () => {
    const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
    const before = ranges(witness, s.sessionId, '00').length;
    await type('00', 'tick');
    await waitFor(() =>
      joined(ranges(witness, s.sessionId, '00').slice(before)).includes('T00010'),
    );
    process.kill(pid, 'SIGSTOP');
    try {
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitFor(() => joined(ranges(witness, s.sessionId, '00')).includes('=tick='), 20000);
    const list = ranges(witness, s.sessionId, '00').slice(before);
    for (let i = 1; i < list.length; i++) expect(list[i].data.from).toBe(list[i - 1].data.next);
    expect(joined(list)).not.toContain('\ufffd');
    await expectAsTranscript('00', list);
  }, 30000);

  it('A14b-2: a stream opened while an agent is in the middle of a character starts at a character boundary (no U+FFFD where /output reads whole characters)', async () => {
    // no stream wants output while the agent prints `X` and the first two bytes of a euro sign
    const bus = t.app.get(EventBus);
    witness.close();
    await waitFor(() => !bus.outputWanted);
    try {
      await type('11', 'slow1.5');
      // the lead bytes are in the transcript (captured), the last one is 1.5 s away
      const tail = async () =>
        (
          await request(t.http)
            .get(`/sessions/${s.shortId}/agents/11/output?limit=3&format=base64`)
            .expect(200)
        ).body.data as string;
      await waitFor(async () =>
        Buffer.from(await tail(), 'base64').equals(Buffer.from([0x58, 0xe2, 0x82])),
      );
      const c = await SseClient.open(t.http, '/events?types=output');
      try {
        await c.next((e) => String(e.data.data ?? '').includes('=slow1.5='), 10000);
        const list = ranges(c, s.sessionId, '11');
        // the transcript holds `X€Y`: the stream may begin after the euro sign, never inside it
        expect(joined(list)).not.toContain('\ufffd');
        await expectAsTranscript('11', list);
      } finally {
        c.close();
      }
    } finally {
      witness = await SseClient.open(t.http, '/events?types=output');
    }
  }, 30000);

  it('A14b-3: an event starting inside a run of stray continuation bytes reads the same from /output (same from, next and data)', async () => {
    // invalid bytes are characters of their own (U+FFFD each): 40,000 of them span several
    // 16 KiB events, so some event begins inside the run; /output given that `from` must agree
    const file = path.join(dir, 'stray');
    writeFileSync(
      file,
      Buffer.concat([Buffer.from('A'), Buffer.alloc(40_000, 0x80), Buffer.from('B')]),
    );
    const list = await run('10', `cat${file}`);
    for (let i = 1; i < list.length; i++) expect(list[i].data.from).toBe(list[i - 1].data.next);
    expect(list.length).toBeGreaterThan(2);
    await expectAsTranscript('10', list);
  }, 30000);

  it('A14b-4: an agent printing faster than events carry: after the skipped range (gap) the next event starts at a character boundary', async () => {
    // 6 MB of box-drawing characters (3 bytes each, what agent TUIs print): far beyond 16 KiB per
    // 50 ms, so the feed skips ranges with a gap; the events after each gap must still be whole
    const line = `${'─'.repeat(99)}\n`;
    const file = path.join(dir, 'boxes');
    writeFileSync(file, line.repeat(20_000));
    const list = await run('11', `cat${file}`);
    const gaps = list.filter((e) => e.event === 'gap');
    expect(gaps.length).toBeGreaterThan(0);
    for (let i = 1; i < list.length; i++) expect(list[i].data.from).toBe(list[i - 1].data.next);
    const cut = list.filter((e) => e.event === 'output' && String(e.data.data).includes('\ufffd'));
    expect(cut.map((e) => [e.data.from, brief(e.data.data as string)])).toEqual([]);
    // and a gap's range ends where /output puts a character boundary
    for (const g of gaps) {
      const r = await read('11', g.data.next as number, 64);
      expect([g.data.next, r.from]).toEqual([g.data.next, g.data.next]);
    }
  }, 60000);
});
