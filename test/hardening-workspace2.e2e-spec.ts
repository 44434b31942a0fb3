import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { mkfifoSync } from './support/mkfifo';
import { TmuxTestServer } from './support/tmux-server';
import { writeSessionDir } from './support/workspace-fixture';

const agent = (id: string) => ({ id, prompt: `hello ${id}` });
const smallTeam = {
  agents: {
    metaManager: agent('00'),
    units: [{ unitId: 1, manager: agent('10'), workers: [agent('11')] }],
  },
};
/** §6.5: 5 s of retries, then 503; what is over that is the create's own work, on a shared, loaded machine. */
const LOCK_ANSWER_MS = 6500;

/** Issue 12 follow-up: a second attack on the workspace (index lock, metadata.json, legacy times), on real tmux through the HTTP API. */
describe('hardening: workspace, second attack (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  const lock = () => path.join(t.workspace, 'sessions', '.sessions.index.lock');
  const sessionDirs = () =>
    readdirSync(path.join(t.workspace, 'sessions'))
      .filter((n) => /^[0-9a-f-]{36}$/.test(n))
      .sort();
  // a wedged or spinning index write never answers: the request timeout turns that into a failure, not a hang
  const runs = () => request(t.http).post('/runs').send(smallTeam).timeout(15_000);
  const timed = async <T>(fn: () => Promise<T>) => {
    const t0 = Date.now();
    const res = await fn();
    return { res, ms: Date.now() - t0 };
  };
  const expectIndexLocked = (res: request.Response) => {
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      code: 'WORKSPACE_UNAVAILABLE',
      details: { reason: 'index_locked' },
    });
    expect(res.headers['retry-after']).toBe('1');
  };

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_CACHE_TTL_MS: '0',
      MAS_STOP_GRACE_MS: '500',
      MAS_PROMPT_DELAY_MS: '200',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
    mkdirSync(path.join(t.workspace, 'sessions'), { recursive: true });
  }, 30000);

  afterEach(() => rmSync(lock(), { recursive: true, force: true }));

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('#ws2-1 a FIFO at .sessions.index.lock is held, not read: /runs and restore answer 503 index_locked, the FIFO stays, and writes work once it is gone', async () => {
    const stopped = (await runs().expect(201)).body.sessionId as string;
    await request(t.http).post(`/sessions/${stopped}/stop`).send({ force: true }).expect(200);
    const before = sessionDirs();
    mkfifoSync(lock());
    const created = await timed(() => runs());
    expectIndexLocked(created.res);
    expect(created.ms).toBeGreaterThanOrEqual(4900);
    expect(created.ms).toBeLessThan(LOCK_ANSWER_MS);
    const restored = await timed(() =>
      request(t.http).post(`/sessions/${stopped}/restore`).send({}).timeout(15_000),
    );
    expectIndexLocked(restored.res);
    expect(restored.ms).toBeLessThan(LOCK_ANSWER_MS);
    expect(lstatSync(lock()).isFIFO()).toBe(true); // never ours: never deleted
    expect(sessionDirs()).toEqual(before);
    rmSync(lock());
    await runs().expect(201); // not wedged: the next writes go through
    await request(t.http).post(`/sessions/${stopped}/restore`).send({}).timeout(15_000).expect(200);
  }, 40_000);

  it('#ws2-2 a directory at .sessions.index.lock is held (no spin: the unit spec bounds its CPU): /runs answers 503 index_locked after 5 s and the directory is kept', async () => {
    const before = sessionDirs();
    mkdirSync(lock());
    writeFileSync(path.join(lock(), 'keep'), 'someone else\n');
    const created = await timed(() => runs());
    expectIndexLocked(created.res);
    expect(created.ms).toBeGreaterThanOrEqual(4900);
    expect(created.ms).toBeLessThan(LOCK_ANSWER_MS);
    expect(lstatSync(path.join(lock(), 'keep')).isFile()).toBe(true);
    expect(sessionDirs()).toEqual(before);
    rmSync(lock(), { recursive: true });
    await runs().expect(201);
  }, 40_000);

  it('#ws2-3 /runs against an index lock held by a live process answers 503 index_locked within ~6.5 s (the rollback does not wait on the index again) and leaves no session directory', async () => {
    const before = sessionDirs();
    const holder = spawn('sleep', ['30'], { stdio: 'ignore' }); // a live foreign PID: our own is stale (A17)
    try {
      writeFileSync(lock(), `${holder.pid}\n${new Date().toISOString()}\n`);
      const created = await timed(() => runs());
      expectIndexLocked(created.res);
      expect(created.ms).toBeLessThan(LOCK_ANSWER_MS);
      expect(sessionDirs()).toEqual(before);
      expect(lstatSync(lock()).isFile()).toBe(true); // a live holder's lock is not ours to remove
    } finally {
      holder.kill();
    }
  }, 40_000);

  it('#ws2-4 a metadata.json that is a FIFO: detail warns METADATA_UNREADABLE, stop and restore leave the FIFO and warn METADATA_UNREADABLE', async () => {
    const id = (await runs().expect(201)).body.sessionId as string;
    const meta = path.join(t.workspace, 'sessions', id, 'metadata.json');
    rmSync(meta);
    mkfifoSync(meta);
    expect((await request(t.http).get(`/sessions/${id}`).expect(200)).body.warnings).toContain(
      'METADATA_UNREADABLE',
    );
    const stop = await request(t.http)
      .post(`/sessions/${id}/stop`)
      .send({ force: true })
      .timeout(15_000)
      .expect(200);
    expect(stop.body.warnings).toContain('METADATA_UNREADABLE');
    const detail = (await request(t.http).get(`/sessions/${id}`).expect(200)).body;
    expect(detail).toMatchObject({ status: 'terminated', restorable: true });
    expect(detail.warnings).toEqual(['METADATA_UNREADABLE']);
    const restore = await request(t.http)
      .post(`/sessions/${id}/restore`)
      .send({})
      .timeout(15_000)
      .expect(200);
    expect(restore.body.warnings).toEqual(['METADATA_UNREADABLE']);
    expect(lstatSync(meta).isFIFO()).toBe(true);
  }, 40_000);

  const unreadable: [string, (file: string) => void][] = [
    ['a FIFO', (f) => mkfifoSync(f)],
    [
      'over its cap',
      (f) =>
        writeFileSync(
          f,
          JSON.stringify({ startedAt: '2026-11-25T19:59:35Z', pad: 'x'.repeat(300 * 1024) }),
        ),
    ],
    [
      'invalid UTF-8',
      (f) =>
        writeFileSync(
          f,
          Buffer.concat([Buffer.from('{"status":"'), Buffer.from([0xff]), Buffer.from('"}')]),
        ),
    ],
    ['JSON that is not an object', (f) => writeFileSync(f, '["stopped"]\n')],
    ['not JSON', (f) => writeFileSync(f, '{"status":')],
  ];

  it.each(unreadable)(
    '#ws2-4 a metadata.json that is %s is reported METADATA_UNREADABLE; a missing one is not',
    async (_name, make) => {
      const id = writeSessionDir(t.workspace, { status: 'stopped', units: ['00'] });
      const missing = await request(t.http).get(`/sessions/${id}`).expect(200);
      expect(missing.body.warnings ?? []).not.toContain('METADATA_UNREADABLE');
      make(path.join(t.workspace, 'sessions', id, 'metadata.json'));
      const res = await request(t.http).get(`/sessions/${id}`).expect(200);
      expect(res.body.warnings).toEqual(['METADATA_UNREADABLE']);
      expect(res.body.restorable).toBe(true); // .session is fine: the session is still restorable
    },
  );

  it('#ws2-5 an invalid legacy STARTED_AT ("2026-13-45 99:99:99") is skipped, not rolled over: startedAt is tmux session_created', async () => {
    const name = 'mas-1e9ac0d5';
    await server.ok('new-session', '-d', '-s', name, '-n', 'meta', 'sleep 600');
    try {
      const created = Number(
        (await server.ok('display-message', '-p', '-t', `=${name}:`, '#{session_created}')).trim(),
      );
      writeFileSync(
        path.join(t.workspace, '.mas_session'),
        `SESSION_NAME=${name}\nSTARTED_AT="2026-13-45 99:99:99"\nPID=1\nPROJECT_DIR=${t.workspace}\n`,
      );
      const res = await request(t.http).get(`/sessions/${name}`).expect(200);
      expect(res.body.source).toBe('legacy');
      expect(res.body.startedAt).toBe(new Date(created * 1000).toISOString());
      // a valid value still wins over tmux
      writeFileSync(
        path.join(t.workspace, '.mas_session'),
        `SESSION_NAME=${name}\nSTARTED_AT="2026-02-28 23:59:59"\nPID=1\nPROJECT_DIR=${t.workspace}\n`,
      );
      const ok = await request(t.http).get(`/sessions/${name}`).expect(200);
      expect(Date.parse(ok.body.startedAt)).toBe(new Date(2026, 1, 28, 23, 59, 59).getTime());
    } finally {
      rmSync(path.join(t.workspace, '.mas_session'), { force: true });
      await server.tmux('kill-session', '-t', `=${name}`);
    }
  });
});
