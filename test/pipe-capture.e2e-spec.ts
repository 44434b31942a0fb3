import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { TranscriptStartup } from '../src/core/transcript/transcript-startup';
import { createTestApp, type TestApp } from './support/create-test-app';
import { teamAgent } from './support/team';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

/** Every agent prints `ready <id>` and answers each line typed into it with `got <line>`. */
const AGENT = path.join(__dirname, 'support', 'reattach-agent');
const SECRET = 'pipe-secret-4f1d9a';
const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [
      { unitId: 1, manager: teamAgent('10'), workers: ['11', '12'].map((id) => teamAgent(id)) },
    ],
  },
};

/** Whether a live `tee` writes into the FIFO `fifo` (other spec files' tees write into their own). */
function teeInto(fifo: string): boolean {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
      if (/(^|\/)tee$/.test(argv0) && readlinkSync(`/proc/${pid}/fd/3`) === fifo) return true;
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return false;
}

/** The argv of every `tee` process whose parent is this test's tmux server. */
function teeArgvs(serverPid: number): string[][] {
  const out: string[][] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      if (ppid === serverPid && /(^|\/)tee$/.test(argv[0] ?? '')) out.push(argv);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe('transcript capture through pipe-pane (e2e, real tmux, §10.2, decision 0008)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let s: { sessionId: string; shortId: string; tmuxSession: string };
  const workspace = realpathSync(mkdtempSync('/tmp/mp-'));
  const env = {
    MAS_WORKSPACE_ROOT: workspace,
    MAS_AGENT_COMMAND: AGENT,
    MAS_PROMPT_DELAY_MS: '300',
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
    MAS_AGENT_ENV_PASSTHROUGH: 'MAS_PIPE_SECRET',
    MAS_PIPE_SECRET: SECRET,
  };
  const outDir = () => path.join(workspace, 'sessions', s.sessionId, 'output');
  const teeOf = (agentId: string) => teeInto(path.join(outDir(), `${agentId}.fifo`));
  const output = async (agentId: string) =>
    (
      await request(t.http)
        .get(`/sessions/${s.shortId}/agents/${agentId}/output?from=0&limit=1048576`)
        .expect(200)
    ).body as { data: string; end: number; gaps: Array<{ offset: number }> };
  const type = async (agentId: string, line: string) => {
    const pane = agentId === '00' ? 'meta-manager.0' : `unit1.${Number(agentId) - 10}`;
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${pane}`, '-l', line);
    await server.ok('send-keys', '-t', `=${s.tmuxSession}:${pane}`, 'Enter');
  };
  const piped = async () => {
    const lines = await server.ok(
      'list-panes',
      '-s',
      '-t',
      `=${s.tmuxSession}`,
      '-F',
      '#{@mas_agent_id} #{pane_pipe}',
    );
    return Object.fromEntries(
      lines
        .split('\n')
        .filter((l) => /^\d\d /.test(l))
        .map((l) => l.split(' ')),
    ) as Record<string, string>;
  };

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, env);
    s = (await request(t.http).post('/runs').send(TEAM).expect(201)).body;
    for (const id of ['00', '10', '11', '12'])
      await waitFor(async () => (await output(id)).data.includes(`ready ${id}`), 15000);
  }, 60000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  });

  it('every agent pane is piped from the creating invocation; no secret in any tee argv (A5, R7)', async () => {
    expect(await piped()).toEqual({ '00': '1', '10': '1', '11': '1', '12': '1' });
    const serverPid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
    const argvs = teeArgvs(serverPid);
    expect(argvs).toHaveLength(4);
    for (const argv of argvs) {
      expect(argv.join(' ')).not.toContain(SECRET);
      // exactly `exec <tee> <file>`: both absolute, service-chosen safe words (§10.2, §6.3)
      expect(argv).toEqual([
        expect.stringMatching(/^\/(usr\/)?bin\/tee$/),
        // the FIFO's own path: a /proc/<pid>/fd path means another process to a tmux server in
        // another pid namespace (A14d-1)
        expect.stringMatching(new RegExp(`^${outDir()}/(00|10|11|12)\\.fifo$`)),
      ]);
    }
    // the FIFOs are the service's, 0600, in the 0700 output directory
    for (const id of ['00', '10', '11', '12']) {
      const st = lstatSync(path.join(outDir(), `${id}.fifo`));
      expect({ fifo: st.isFIFO(), mode: st.mode & 0o777 }).toEqual({ fifo: true, mode: 0o600 });
    }
  });

  it('a restart re-pipes with a gap: bytes printed while down are a gap, later ones are captured at the next offset', async () => {
    const before = (await output('10')).end;
    await t.close();
    // printed while no service reads: tee dies of SIGPIPE (tmux notices only when the pane next
    // prints, so pane_pipe stays 1: start-up replaces every agent pane's pipe)
    await type('10', 'while-down');
    await waitFor(() => !teeOf('10'), 10000);
    t = await createTestApp(server, env);
    await t.app.get(TranscriptStartup).done;
    await waitFor(() => teeOf('10'), 10000);
    expect((await piped())['10']).toBe('1');
    const after = await output('10');
    expect(after.gaps).toEqual([expect.objectContaining({ offset: before })]);
    await type('10', 'back');
    await waitFor(async () => (await output('10')).data.includes('got back'), 10000);
    const whole = await output('10');
    expect(whole.data.slice(before)).toBe('got back\r\n');
  }, 60000);

  it('A10, A14d-4: a FIFO swapped for a symlink or a regular file between requests is never written through, and is replaced by a FIFO of ours at the re-pipe: the agent is captured again, after a gap', async () => {
    const bait = path.join(workspace, 'bait');
    writeFileSync(bait, 'untouched');
    await t.close();
    // tee of 11 and 12 die of SIGPIPE once they print with no reader
    await type('11', 'x');
    await type('12', 'x');
    await waitFor(() => !teeOf('11') && !teeOf('12'), 10000);
    unlinkSync(path.join(outDir(), '11.fifo'));
    symlinkSync(bait, path.join(outDir(), '11.fifo'));
    unlinkSync(path.join(outDir(), '12.fifo'));
    writeFileSync(path.join(outDir(), '12.fifo'), 'regular', { mode: 0o600 });
    t = await createTestApp(server, env);
    await t.app.get(TranscriptStartup).done;
    await waitFor(() => teeOf('10') && teeOf('11') && teeOf('12'), 10000);
    for (const id of ['11', '12']) {
      const st = lstatSync(path.join(outDir(), `${id}.fifo`));
      expect({ id, fifo: st.isFIFO(), mode: st.mode & 0o777 }).toEqual({
        id,
        fifo: true,
        mode: 0o600,
      });
    }
    // 11 prints a tick every 0.1 s, 12 answers a typed line: both transcripts grow again, after a gap
    const before = (await output('11')).end;
    await waitFor(async () => (await output('11')).end > before, 10000);
    await type('12', 'after-swap');
    await waitFor(async () => (await output('12')).data.includes('got after-swap'), 10000);
    for (const id of ['11', '12']) expect((await output(id)).gaps.length).toBeGreaterThan(0);
    expect(readFileSync(bait, 'utf8')).toBe('untouched');
    expect(
      teeArgvs(Number((await server.ok('display-message', '-p', '#{pid}')).trim())).length,
    ).toBe(4);
  }, 60000);
});
