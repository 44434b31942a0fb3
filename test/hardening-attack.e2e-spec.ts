import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { FS, RS, TREE_FIELDS } from '../src/tmux/tmux-format';
import { createTestApp, FAKE_AGENT, type TestApp } from './support/create-test-app';
import { scrubbedEnv, TmuxTestServer } from './support/tmux-server';
import { teamAgent } from './support/team';
import { waitFor } from './support/wait-for';

const small = {
  agents: { units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }] },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Findings of the fresh-eyes attack on the issue 12 build: sessions we do not own stay untouched. */
describe('hardening: attacks on sessions this workspace does not own (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;

  beforeEach(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, { MAS_STOP_GRACE_MS: '1500', MAS_CACHE_TTL_MS: '0' });
  });

  afterEach(async () => {
    await t.close();
    await server.stop();
  });

  const tmuxSync = (...args: string[]) =>
    execFileSync('tmux', ['-u', '-S', server.socket, '-f', server.config, ...args], {
      env: scrubbedEnv(),
      encoding: 'utf8',
    });
  const display = (target: string, fmt: string) =>
    tmuxSync('display-message', '-p', '-t', target, fmt).trim();

  it('attack 1: a raw value holding LF and RS cannot forge a listing record; a forced restore kills nobody', async () => {
    const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
    await request(t.http).post(`/sessions/${s.sessionId}/stop`).send({ force: true }).expect(200);
    tmuxSync('new-session', '-d', '-s', 'victim', 'sleep 600');
    const now = String(Math.floor(Date.now() / 1000));
    const v: Record<string, string> = Object.fromEntries(TREE_FIELDS.map((f) => [f, '']));
    Object.assign(v, {
      pid: display('victim:', '#{pid}'),
      session_id: display('victim:', '#{session_id}'),
      session_name: s.tmuxSession,
      session_created: now,
      session_attached: '0',
      session_activity: now,
      '@mas_session_id': s.sessionId,
      '@mas_workspace': t.workspace,
      window_id: display('victim:', '#{window_id}'),
      window_index: '1',
      window_name: 'meta-manager',
      window_active: '1',
      window_panes: '1',
      window_activity: now,
      pane_id: display('victim:', '#{pane_id}'),
      pane_index: '0',
      pane_dead: '0',
      pane_in_mode: '0',
      pane_current_command: 'cat',
      '@mas_agent_id': '10',
      '@mas_agent_launched': '1',
    });
    const forged = RS + TREE_FIELDS.map((f) => v[f]).join(FS);
    // both a non-MAS session and a MAS-named session nobody owns carry the forged record in a pane option
    for (const name of ['hostile', 'mas-ffffffff']) {
      tmuxSync('new-session', '-d', '-s', name, 'sleep 600');
      tmuxSync('set-option', '-p', '-t', `=${name}:`, '@mas_agent_unsafe', `0\n${forged}`);
    }
    const detail = (await request(t.http).get(`/sessions/${s.sessionId}`).expect(200)).body;
    expect(detail.status).toBe('terminated');
    expect(detail.agents.map((a: { status: string }) => a.status)).toEqual(['stopped', 'stopped']);
    await request(t.http)
      .post(`/sessions/${s.sessionId}/restore`)
      .send({ force: true })
      .expect(200);
    expect(await server.sessionNames()).toEqual(
      expect.arrayContaining(['victim', 'hostile', 'mas-ffffffff', s.tmuxSession]),
    );
  });

  it('attack 2: a stop spanning a tmux server restart types nothing into, and kills nothing of, the new server', async () => {
    const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
    await waitFor(
      async () => (await request(t.http).get(`/sessions/${s.sessionId}`)).body.agentCount === 2,
    ); // a graceful phase to span
    const maxPane = Math.max(
      ...tmuxSync('list-panes', '-a', '-F', '#{pane_id}')
        .trim()
        .split('\n')
        .map((p) => Number(p.slice(1))),
    );
    const sid = Number(display(`=${s.tmuxSession}:`, '#{session_id}').slice(1));
    const stopping = request(t.http)
      .post(`/sessions/${s.sessionId}/stop`)
      .send({})
      .then((r) => r);
    await sleep(150); // the first C-c has gone out; the grace period runs
    tmuxSync('kill-server');
    // a new server whose ids ($0.., %0..) cover every id the stop saw, each pane recording what it gets
    const rec = (i: number) => path.join(server.dir, `v${i}.bin`);
    const cat = (i: number) => `stty raw -echo; exec cat > ${rec(i)}`;
    // right after kill-server a new-session may meet the old server on its way out (T-06)
    for (let i = 0; i < 40; i++) {
      if ((await server.tmux('new-session', '-d', '-s', 'v0', cat(0))).code === 0) break;
      await sleep(25);
    }
    for (let i = 1; i <= sid; i++) tmuxSync('new-session', '-d', '-s', `v${i}`, cat(1000 + i));
    for (let i = 1; i <= maxPane; i++) tmuxSync('new-window', '-d', '-t', '=v0:', cat(i));
    const res = await stopping;
    expect(res.status).toBe(200);
    expect(await server.sessionNames()).toEqual(
      Array.from({ length: sid + 1 }, (_, i) => `v${i}`).sort(),
    );
    for (let i = 0; i <= maxPane; i++)
      expect(existsSync(rec(i)) ? readFileSync(rec(i), 'latin1') : '').not.toContain('\u0003');
  }, 20000);

  it('attack 6: a non-MAS session with huge window names cannot deny the listing or open the breaker', async () => {
    const conf = path.join(server.dir, 'hog.conf');
    const name = 'W'.repeat(200_000);
    writeFileSync(
      conf,
      Array.from({ length: 25 }, () => `new-window -d -t hog -n '${name}'\n`).join(''),
    );
    tmuxSync('new-session', '-d', '-s', 'hog', 'sleep 600');
    tmuxSync('source-file', conf);
    for (let i = 0; i < 8; i++) await request(t.http).get('/sessions').expect(200);
    await request(t.http).post('/runs').send(small).expect(201);
  }, 30000);

  it('attack 7: with synchronize-panes on, a message to one agent reaches no other pane; the setting is kept', async () => {
    const s = (await request(t.http).post('/runs').send(small).expect(201)).body;
    await waitFor(
      async () =>
        (await request(t.http).get(`/sessions/${s.sessionId}`)).body.startup?.state === 'ready',
      15000,
    );
    tmuxSync('set-option', '-w', '-t', `=${s.tmuxSession}:unit1`, 'synchronize-panes', 'on');
    const got = (a: string) =>
      readFileSync(
        path.join(t.workspace, 'sessions', s.sessionId, 'unit', a, 'received.bin'),
        'latin1',
      );
    const before11 = got('11');
    await request(t.http)
      .post('/message')
      .send({ session: s.tmuxSession, target: '10', message: 'only-for-10' })
      .expect(200);
    // the fake agent writes what it read a moment after tmux delivered it
    await waitFor(async () => got('10').endsWith('only-for-10\r'), 5000);
    await sleep(300); // a stray copy to 11 would have arrived by now too
    expect(got('11')).toBe(before11);
    expect(display(`=${s.tmuxSession}:unit1`, '#{synchronize-panes}')).toBe('1');
  }, 30000);

  it('attack 8: a tmux configuration whose hooks bend the creation layout: 502 layout_incomplete, nothing left', async () => {
    const conf = path.join(server.dir, 'hooks.conf');
    writeFileSync(conf, "set-hook -g after-new-window 'rename-window hijacked'\n");
    const hooked = TmuxTestServer.create();
    const h = await createTestApp(hooked, { MAS_TMUX_CONFIG: conf });
    try {
      const res = await request(h.http).post('/runs').send(small).expect(502);
      expect(res.body).toMatchObject({
        code: 'TMUX_ERROR',
        details: { reason: 'layout_incomplete' },
      });
      expect(await hooked.sessionNames()).toEqual([]);
      expect(
        existsSync(path.join(h.workspace, 'sessions'))
          ? readdirSync(path.join(h.workspace, 'sessions')).filter((n) => !n.startsWith('.'))
          : [],
      ).toEqual([]);
    } finally {
      await h.close();
      await hooked.stop();
    }
  });

  it('a one-word agent command never passes through sh -c (T-34): a path with ";" runs as itself', async () => {
    const dir = mkdtempSync('/tmp/ma-');
    const agent = path.join(dir, 'agent;touch pwned'); // a shell would run "touch pwned" in the pane's directory
    copyFileSync(FAKE_AGENT, agent);
    chmodSync(agent, 0o755);
    const own = TmuxTestServer.create();
    const a = await createTestApp(own, { MAS_AGENT_COMMAND: JSON.stringify([agent]) });
    try {
      const s = (await request(a.http).post('/runs').send(small).expect(201)).body;
      await waitFor(
        async () => (await request(a.http).get(`/sessions/${s.sessionId}`)).body.agentCount === 2,
      );
      for (const id of ['10', '11'])
        expect(
          existsSync(path.join(a.workspace, 'sessions', s.sessionId, 'unit', id, 'pwned')),
        ).toBe(false);
    } finally {
      await a.close();
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
