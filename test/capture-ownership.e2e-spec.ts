import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { standardTeam, STANDARD_IDS, teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/**
 * Who captures a session, and when (contract §10.2, §5.1, A1, A15): findings A14-2, A14-5 and A14-7
 * of the fresh-eyes attack on the observation API (issue 14), copied from test/attack14.e2e-spec.ts.
 */

/** 00 prints and lives; 12 prints a counter line every 20 ms. */
const AGENT = `#!/bin/sh
stty -echo 2>/dev/null
printf 'hello %s\\n' "$MAS_AGENT_ID"
if [ "$MAS_AGENT_ID" = 12 ]; then i=0; while :; do i=$((i+1)); printf 'n%08d\\n' "$i"; sleep 0.02; done; fi
printf 'done>'
exec cat >/dev/null
`;

const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [
      { unitId: 1, manager: teamAgent('10'), workers: ['11', '12'].map((id) => teamAgent(id)) },
    ],
  },
};

describe('capture ownership: one capturing process, sessions made live outside the service (e2e, real tmux, §10.2)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const tmp = realpathSync(mkdtempSync('/tmp/capown-'));
  const agent = path.join(tmp, 'agent');

  const output = (agentId: string, query = '') =>
    request(t.http).get(`/sessions/${s.shortId}/agents/${agentId}/output${query}`);

  beforeAll(async () => {
    writeFileSync(agent, AGENT);
    chmodSync(agent, 0o755);
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '1000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_ACTIVITY_IDLE_MS: '500',
    });
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    await waitFor(async () => (await output('00', '?from=0')).body.data?.includes('done>'), 20000);
  }, 60000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('A14-5: a second service process on the same workspace captures the same panes: bytes twice, offsets go back', async () => {
    // §10.2: the transcript is everything the pane wrote, once, at offsets that "never go back". A
    // second process on the workspace (a restart whose new process starts before the old one has
    // exited, or an accidental second instance) must not append the same bytes to the same files.
    // Agent 12 prints n00000001, n00000002, ...: each line once.
    const ends: number[] = [];
    const end = async () => {
      const r = (await output('12', '?limit=1').expect(200)).body;
      ends.push(r.end);
      return r.end as number;
    };
    await end();
    const second = await createTestApp(server, {
      MAS_WORKSPACE_ROOT: t.workspace,
      MAS_AGENT_COMMAND: agent,
    });
    try {
      const until = Date.now() + 2000;
      while (Date.now() < until) {
        await end();
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await second.close();
    }
    const b = (await output('12', '?from=0&limit=1048576').expect(200)).body;
    const nums = (b.data as string)
      .split('\r\n')
      .filter((l) => /^n[0-9]{8}$/.test(l))
      .map((l) => Number(l.slice(1)));
    const repeats = nums.filter((n, k) => k > 0 && n <= nums[k - 1]).length;
    const backwards = ends.filter((e, k) => k > 0 && e < ends[k - 1]).length;
    expect({ repeats, backwards }).toEqual({ repeats: 0, backwards: 0 });
  });

  it('A14-7: a workspace session recreated outside the service (untagged, §5.1) is never captured: no bytes, no gap', async () => {
    // §10.2: "while a session is live and the service runs, everything each agent's pane writes" is
    // appended; bytes printed before capture started are recorded as gaps. §5.1 attributes an
    // untagged `mas-<short>` (the shell tooling's) to the workspace session with that short id, and
    // /screen shows it as the session's agent 00; its transcript must follow (or at least record a
    // gap), not stay frozen at the old end until the service restarts. Runs last: it stops `s`.
    await request(t.http).post(`/sessions/${s.shortId}/stop`).send({ force: true }).expect(200);
    const whole = async () => (await output('00', '?from=0&limit=1048576').expect(200)).body;
    const before = await whole();
    await server.ok(
      'new-session',
      '-d',
      '-s',
      s.tmuxSession,
      '-n',
      'meta-manager',
      'while :; do printf HANDMADE; sleep 0.2; done',
    );
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${s.shortId}/agents/00/screen`)).body.lines?.some(
          (l: string) => l.includes('HANDMADE'),
        ),
      10000,
    );
    const moved = (r: { end: number; gaps: unknown[] }) =>
      r.end > before.end || r.gaps.length > before.gaps.length;
    const after = await waitFor(async () => {
      const r = await whole();
      return moved(r) ? r : undefined;
    }, 5000).catch(whole);
    expect({ end: after.end, gaps: after.gaps.length }).not.toEqual({
      end: before.end,
      gaps: before.gaps.length,
    });
  });
});

describe('capture ownership: agents that print at once (e2e, real tmux, §10.2)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  const tmp = realpathSync(mkdtempSync('/tmp/capown-'));
  const agent = path.join(tmp, 'agent');

  beforeAll(async () => {
    // prints one line as soon as it starts, then exits: its dead pane keeps the line (remain-on-exit)
    writeFileSync(agent, `#!/bin/sh\nprintf 'hello %s\\n' "$MAS_AGENT_ID"\nexit 3\n`);
    chmodSync(agent, 0o755);
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '300',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
  }, 60000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  // tmux 3.3a drops a pane's output queued for a control client once the pane's process has exited
  // (control.c, wp->fd == -1), and these agents print and exit at once: what cannot be captured must
  // be a gap (decision 0008, "an agent prints at once").
  it("A14-2: an agent's first output can be lost without a gap (pane listed before it is tagged)", async () => {
    // §10.2: capture is attached before the agent's first output (in the creating invocation);
    // bytes printed before capture started are recorded as gaps. Every agent here printed
    // "hello <id>" once, and its dead pane still shows it; a transcript with neither those bytes nor
    // a gap lost them silently. The loss is a race, so 4 teams of 13 agents are created.
    const lost: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const s = (await request(t.http).post('/runs').send(standardTeam()).expect(201)).body;
      for (const id of STANDARD_IDS) {
        const read = async () =>
          (
            await request(t.http)
              .get(`/sessions/${s.shortId}/agents/${id}/output?from=0`)
              .expect(200)
          ).body;
        // give the capture its time: the line is in the pane within a second
        const r = await waitFor(async () => {
          const b = await read();
          return b.data.includes(`hello ${id}`) || b.gaps.length ? b : undefined;
        }, 3000).catch(read);
        if (!r.data.includes(`hello ${id}`) && r.gaps.length === 0)
          lost.push({ session: s.shortId, agentId: id, data: r.data, end: r.end });
      }
    }
    expect(lost).toEqual([]);
  }, 120000);
});
