import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';
import { waitFor } from './support/wait-for';

const agent = (id: string) => ({ id, prompt: `hello ${id}` });
const smallTeam = {
  agents: {
    metaManager: agent('00'),
    units: [{ unitId: 1, manager: agent('10'), workers: [agent('11')] }],
  },
};

/** Issue 12, workspace-write findings (#10, #14, #17; contract A10, A17), on real tmux through the HTTP API. */
describe('hardening: workspace writes (e2e, real tmux)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let outside: string;
  const dirOf = (id: string) => path.join(t.workspace, 'sessions', id);
  const file = (id: string, name: string) => path.join(dirOf(id), name);
  const indexStatus = (id: string) =>
    (
      JSON.parse(readFileSync(path.join(t.workspace, 'sessions', '.sessions.index'), 'utf8')) as {
        sessions: { sessionId: string; status: string }[];
      }
    ).sessions.find((e) => e.sessionId === id)?.status;
  const create = async () =>
    (await request(t.http).post('/runs').send(smallTeam).expect(201)).body as {
      sessionId: string;
      tmuxSession: string;
    };
  const forceStop = (id: string) =>
    request(t.http).post(`/sessions/${id}/stop`).send({ force: true }).expect(200);

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server, {
      MAS_STOP_GRACE_MS: '1500',
      MAS_PROMPT_DELAY_MS: '200',
      MAS_AGENT_LAUNCH_CHECK_MS: '200',
    });
    outside = mkdtempSync('/tmp/mw-outside-');
  }, 30000);

  afterAll(async () => {
    await t.close();
    await server.stop();
    rmSync(outside, { recursive: true, force: true });
  });

  const unreadableMetadata: [string, Buffer][] = [
    ['oversize', Buffer.from(JSON.stringify({ sessionId: 'kept', pad: 'x'.repeat(300 * 1024) }))],
    [
      'invalid UTF-8',
      Buffer.concat([
        Buffer.from('{"sessionId":"kept","note":"'),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('"}\n'),
      ]),
    ],
    ['non-object JSON', Buffer.from('["not", "an", "object"]\n')],
  ];

  it.each(unreadableMetadata)(
    '#10 A10 stop leaves an unreadable metadata.json untouched (%s) and warns METADATA_UNREADABLE',
    async (_name, bytes) => {
      const s = await create();
      writeFileSync(file(s.sessionId, 'metadata.json'), bytes);
      const res = await forceStop(s.sessionId);
      expect(res.body.warnings).toContain('METADATA_UNREADABLE');
      expect(readFileSync(file(s.sessionId, 'metadata.json')).equals(bytes)).toBe(true);
      expect(readFileSync(file(s.sessionId, '.session'), 'utf8')).toMatch(/^STATUS=stopped$/m); // the other file is still written
      expect(indexStatus(s.sessionId)).toBe('stopped');
    },
  );

  it('#10 A10 stop leaves a metadata.json symlink (to a file outside) and its target untouched and warns METADATA_UNREADABLE', async () => {
    const s = await create();
    const target = path.join(outside, 'metadata-target.json');
    const bytes = Buffer.from('{"owner":"someone else"}\n');
    writeFileSync(target, bytes);
    rmSync(file(s.sessionId, 'metadata.json'));
    symlinkSync(target, file(s.sessionId, 'metadata.json'));
    const res = await forceStop(s.sessionId);
    expect(res.body.warnings).toContain('METADATA_UNREADABLE');
    expect(lstatSync(file(s.sessionId, 'metadata.json')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(file(s.sessionId, 'metadata.json'))).toBe(target);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(indexStatus(s.sessionId)).toBe('stopped');
  });

  const unreadableSession: [string, (id: string, text: string) => Buffer][] = [
    ['oversize', (_id, text) => Buffer.from(`${text}${`# ${'x'.repeat(1000)}\n`.repeat(70)}`)],
    [
      'invalid UTF-8',
      (_id, text) => Buffer.concat([Buffer.from(text), Buffer.from([0x23, 0xff, 0x0a])]),
    ],
  ];

  it.each(unreadableSession)(
    '#10 A10 stop leaves an unreadable .session untouched (%s) but still writes metadata.json and the index',
    async (_name, make) => {
      const s = await create();
      const bytes = make(s.sessionId, readFileSync(file(s.sessionId, '.session'), 'utf8'));
      writeFileSync(file(s.sessionId, '.session'), bytes);
      const res = await forceStop(s.sessionId);
      expect(res.body.warnings).toContain('METADATA_UNREADABLE');
      expect(readFileSync(file(s.sessionId, '.session')).equals(bytes)).toBe(true);
      expect(JSON.parse(readFileSync(file(s.sessionId, 'metadata.json'), 'utf8'))).toMatchObject({
        sessionId: s.sessionId,
        status: 'stopped',
        createdBy: 'mas-api',
      });
      expect(indexStatus(s.sessionId)).toBe('stopped');
    },
  );

  it('#10 A10 stop leaves a .session symlink (to a file outside) and its target untouched', async () => {
    const s = await create();
    const target = path.join(outside, 'session-target');
    const bytes = readFileSync(file(s.sessionId, '.session'));
    writeFileSync(target, bytes);
    rmSync(file(s.sessionId, '.session'));
    symlinkSync(target, file(s.sessionId, '.session'));
    const res = await forceStop(s.sessionId);
    expect(res.body.warnings).toContain('METADATA_UNREADABLE');
    expect(readlinkSync(file(s.sessionId, '.session'))).toBe(target);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(JSON.parse(readFileSync(file(s.sessionId, 'metadata.json'), 'utf8'))).toMatchObject({
      status: 'stopped',
    });
  });

  it('#14 A10 stop TOCTOU: a session directory swapped for a symlink during the graceful phase redirects no write', async () => {
    const s = await create();
    const dir = dirOf(s.sessionId);
    const decoy = path.join(outside, 'decoy');
    mkdirSync(decoy);
    const decoySession = readFileSync(path.join(dir, '.session'));
    const decoyMeta = readFileSync(path.join(dir, 'metadata.json'));
    writeFileSync(path.join(decoy, '.session'), decoySession);
    writeFileSync(path.join(decoy, 'metadata.json'), decoyMeta);
    await waitFor(
      () =>
        existsSync(path.join(dir, 'unit', '00', 'received.bin')) &&
        readFileSync(path.join(dir, 'unit', '00', 'received.bin'), 'utf8').includes('hello 00'),
    );
    const stopping = request(t.http)
      .post(`/sessions/${s.sessionId}/stop`)
      .send({})
      .then((r) => r);
    // the fake agent takes C-c as a byte and keeps running, so the whole grace (1.5 s) runs out
    await waitFor(
      () => readFileSync(path.join(dir, 'unit', '00', 'received.bin')).includes(0x03),
      5000,
      10,
    );
    const moved = path.join(t.workspace, `moved-${s.sessionId}`);
    renameSync(dir, moved);
    symlinkSync(decoy, dir);
    const res = await stopping;
    expect(res.status).toBe(200);
    expect(res.body.graceful).toBe(false);
    expect(res.body.warnings).toContain('METADATA_UPDATE_FAILED');
    expect(readFileSync(path.join(decoy, '.session')).equals(decoySession)).toBe(true);
    expect(readFileSync(path.join(decoy, 'metadata.json')).equals(decoyMeta)).toBe(true);
    expect(lstatSync(dir).isSymbolicLink()).toBe(true);
    expect(indexStatus(s.sessionId)).toBe('stopped'); // the index lives outside the session directory
  });

  it("#17 A17 an index lock naming this process's own PID (PID reuse) is stale at once: POST /runs answers 201 quickly", async () => {
    const lock = path.join(t.workspace, 'sessions', '.sessions.index.lock');
    mkdirSync(path.dirname(lock), { recursive: true });
    writeFileSync(lock, `${process.pid}\n${new Date().toISOString()}\n`);
    const t0 = Date.now();
    await create();
    expect(Date.now() - t0).toBeLessThan(3000); // the lock wait alone would be 5 s
    expect(existsSync(lock)).toBe(false);
  });
});
