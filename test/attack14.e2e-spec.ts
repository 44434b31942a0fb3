import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { startService } from './support/service-process';
import { SseClient } from './support/sse-client';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/**
 * Findings of the fresh-eyes attack on the observation API (issue 14, contract §10). Each test
 * states the contract clause it holds the service to, and fails on the build it was written against.
 */

/** 00 prints a colour and a window title (OSC) and lives; 10 prints and exits at once (a dead pane); 11 keeps printing dots;
 * 12 prints a counter line every 20 ms; 13 prints 1 KB lines fast once `unit/13/go` exists. */
const AGENT = `#!/bin/sh
stty -echo 2>/dev/null
printf 'hello %s\\n' "$MAS_AGENT_ID"
printf 'a \\033[1mbold\\033[0m b\\n\\033]0;title\\007 osc\\n'
if [ "$MAS_AGENT_ID" = 10 ]; then exit 3; fi
if [ "$MAS_AGENT_ID" = 11 ]; then while :; do sleep 0.2; printf '.'; done; fi
if [ "$MAS_AGENT_ID" = 13 ]; then
  while [ ! -e "$MAS_AGENT_DIR/go" ]; do sleep 0.1; done
  i=0; while :; do i=$((i+1)); printf 'r%0990d\\n' "$i"; [ $((i % 4)) = 0 ] && sleep 0.05; done
fi
if [ "$MAS_AGENT_ID" = 12 ]; then i=0; while :; do i=$((i+1)); printf 'n%08d\\n' "$i"; sleep 0.02; done; fi
printf 'done>'
exec cat >/dev/null
`;

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

describe('attack 14: the observation API (e2e, real tmux, §10)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const tmp = realpathSync(mkdtempSync('/tmp/atk14-'));
  const agent = path.join(tmp, 'agent');

  const output = (agentId: string, query = '') =>
    request(t.http).get(`/sessions/${s.shortId}/agents/${agentId}/output${query}`);
  const sessionDir = () => path.join(t.workspace, 'sessions', s.sessionId);

  beforeAll(async () => {
    writeFileSync(agent, AGENT);
    chmodSync(agent, 0o755);
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '1000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_ACTIVITY_IDLE_MS: '500',
      MAS_OUTPUT_MAX_BYTES: String(64 * 1024),
    });
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    await waitFor(async () => (await output('00', '?from=0')).body.data?.includes('done>'), 20000);
  }, 60000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('A14-1: /output follows an `output` directory swapped for a symlink and serves foreign files', async () => {
    // §10.2: the transcript lives in <session dir>/output, "written as A10 and §6.8 require"; §6.2
    // (1): a read's directory must be the real directory under <ws>, no symlinks. An `output`
    // replaced by a symlink to a directory outside the workspace must never be read through.
    const foreign = path.join(tmp, 'foreign');
    mkdirSync(foreign, { mode: 0o700 });
    writeFileSync(path.join(foreign, '00.log'), 'FOREIGN-SECRET\n');
    const out = path.join(sessionDir(), 'output');
    renameSync(out, `${out}.real`);
    symlinkSync(foreign, out);
    try {
      const r = await output('00', '?from=0');
      expect(JSON.stringify(r.body)).not.toContain('FOREIGN-SECRET');
    } finally {
      rmSync(out);
      renameSync(`${out}.real`, out);
    }
  });

  /** Agent 00's transcript bytes, and where its escape sequences start. */
  const bytes00 = async () => {
    const b = (await output('00', '?from=0&format=base64').expect(200)).body;
    const all = Buffer.from(b.data, 'base64');
    return { all, sgr: all.indexOf('\x1b[1m'), osc: all.indexOf('\x1b]0;') };
  };

  it('A14-3: format=text ignores `limit` when the read starts at an escape sequence', async () => {
    // §10.2: `limit` bounds the bytes read; the only overshoot allowed is the one that makes a read
    // advance by at least one character (and text keeps an escape sequence whole). A read of 1 byte
    // at the 4-byte `ESC [1m` may take that sequence and one character, not the rest of the file.
    const { all, sgr } = await bytes00();
    expect(sgr).toBeGreaterThan(0);
    const r = (await output('00', `?from=${sgr}&limit=1&format=text`).expect(200)).body;
    expect({ from: r.from, advanced: r.next - r.from, data: r.data }).toMatchObject({ from: sgr });
    expect(r.next - r.from).toBeLessThanOrEqual(4 + 4);
    expect(r.next).toBeLessThan(all.length);
  });

  it('A14-4: format=text shows the tail of an escape sequence when the read starts inside one (tail reads too)', async () => {
    // §10.2: `text` is the stream with escape sequences removed, never cut in half. The tail
    // (`max(start, end - limit)`) can land inside one: the client asked for text and must not get
    // `0;title` and a raw BEL out of an OSC title sequence.
    const { all, osc } = await bytes00();
    expect(osc).toBeGreaterThan(0);
    const end = all.length;
    const tail = (await output('00', `?format=text&limit=${end - (osc + 2)}`).expect(200)).body;
    expect(tail.end).toBe(end);
    expect(JSON.stringify(tail.data)).not.toMatch(/\\u0007|title/);
    const mid = (await output('00', `?format=text&from=${osc + 2}&limit=64`).expect(200)).body;
    expect(JSON.stringify(mid.data)).not.toMatch(/\\u0007|title/);
  });

  it("A14-6: a Last-Event-ID of this process's own epoch with an unknown seq is answered `restarted`", async () => {
    // §10.3: `restarted` means "the id's epoch is another process's"; an older or unknown resume point
    // of this epoch is `expired`. The epoch is learned from the gap a bogus id produces.
    const first = await SseClient.open(t.http, '/events', { 'last-event-id': 'bogus' });
    try {
      const gap = await first.next((e) => e.event === 'gap');
      const epoch = String(gap.id).split('-')[0];
      expect(epoch).toMatch(/^[0-9a-z]+$/);
      const again = await SseClient.open(t.http, '/events', {
        'last-event-id': `${epoch}-999999999`,
      });
      try {
        const g = await again.next((e) => e.event === 'gap');
        expect(g.data.reason).not.toBe('restarted');
      } finally {
        again.close();
      }
    } finally {
      first.close();
    }
  });
});

describe('attack 14: a rollover that cannot rename (service process, real tmux, §10.2)', () => {
  it('A14-8: a rollover whose rename fails keeps writing to the closed descriptor: capture stops, the process can die', async () => {
    // §10.2: the file rolls over to `.log.1` at MAS_OUTPUT_MAX_BYTES and capture goes on; A6: the
    // process never ends because of it. Here the rename cannot happen (`13.log.1` is a non-empty
    // directory someone left there): the rollover has already closed the descriptor and keeps using
    // the stale number (EBADF on every write, or whatever file or socket reuses that number), and the
    // later close throws EBADF from a child-process exit handler. The transcript must keep growing
    // while the agent prints (at worst with a gap), and the service must stay up.
    const server = TmuxTestServer.create();
    const ws = realpathSync(mkdtempSync('/tmp/atk14-ws-'));
    const agent = path.join(ws, 'agent');
    writeFileSync(agent, AGENT);
    chmodSync(agent, 0o755);
    const svc = await startService({
      MAS_TMUX_SOCKET: server.socket,
      MAS_TMUX_CONFIG: server.config,
      MAS_WORKSPACE_ROOT: ws,
      MAS_AGENT_COMMAND: agent,
      MAS_PROMPT_DELAY_MS: '1000',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
      MAS_OUTPUT_MAX_BYTES: String(64 * 1024),
    });
    try {
      const res = await fetch(`${svc.url}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(TEAM),
      });
      expect(res.status).toBe(201);
      const id = ((await res.json()) as { sessionId: string }).sessionId;
      const dir = path.join(ws, 'sessions', id);
      const end13 = async () => {
        const r = await fetch(`${svc.url}/sessions/${id}/agents/13/output?limit=1`);
        return ((await r.json()) as { end?: number }).end;
      };
      await waitFor(async () => (await end13()) !== undefined, 15000);
      mkdirSync(path.join(dir, 'output', '13.log.1'));
      writeFileSync(path.join(dir, 'output', '13.log.1', 'keep'), 'x');
      writeFileSync(path.join(dir, 'unit', '13', 'go'), '');
      let last: number | undefined;
      await waitFor(
        async () => (last = await end13()) !== undefined && last > 3 * 64 * 1024,
        20000,
      ).catch(() => undefined);
      expect({ alive: svc.alive(), end: last }).toMatchObject({ alive: true });
      expect(last).toBeGreaterThan(3 * 64 * 1024);
    } finally {
      await svc.stop();
      await server.stop();
      rmSync(ws, { recursive: true, force: true });
    }
  }, 90000);
});
