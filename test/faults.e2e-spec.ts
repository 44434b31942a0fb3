import { execFileSync } from 'node:child_process';
import {
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
import { createTestApp, type TestApp } from './support/create-test-app';
import { TranscriptStartup } from '../src/core/transcript/transcript-startup';
import { TmuxTestServer } from './support/tmux-server';
import { teamAgent } from './support/team';
import { writeSessionDir } from './support/workspace-fixture';

const TEAM = {
  agents: {
    metaManager: teamAgent('00'),
    units: [{ unitId: 1, manager: teamAgent('10'), workers: [teamAgent('11')] }],
  },
};

const FAKE = path.join(__dirname, 'support', 'fake-tmux');
/** Alive and not a zombie (an unreaped child of a killed group is gone for our purposes). */
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Live (non-zombie) processes whose command line mentions `needle`. */
function liveMatching(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return (
          pid !== process.pid &&
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(needle) &&
          alive(pid)
        );
      } catch {
        return false;
      }
    });
}

describe('faults with a fake tmux binary', () => {
  let dir: string;
  let t: TestApp;
  const mode = (m: string) => writeFileSync(path.join(dir, 'mode'), m);
  const calls = () =>
    existsSync(path.join(dir, 'calls'))
      ? readFileSync(path.join(dir, 'calls'), 'utf8').trim().split('\n').length
      : 0;

  beforeEach(async () => {
    dir = mkdtempSync('/tmp/mf-');
    mode('ok');
    t = await createTestApp(undefined, {
      MAS_TMUX_BIN: FAKE,
      MAS_TMUX_SOCKET: path.join(dir, 's'),
      MAS_TMUX_TIMEOUT_MS: '800',
      MAS_CACHE_TTL_MS: '0',
      MAS_BREAKER_RESET_MS: '1000',
      MAS_AGENT_ENV_PASSTHROUGH: 'FAKE_TMUX_DIR',
      FAKE_TMUX_DIR: dir,
    });
  });

  afterEach(async () => {
    await t.close();
    // no tmux client (nor a grandchild of one) outlives its request, whatever the mode
    await new Promise((r) => setTimeout(r, 100));
    expect(liveMatching(FAKE)).toEqual([]);
    expect(liveMatching('sleep 1000')).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('hang: 504 TMUX_TIMEOUT with outcome none, and the whole process group is gone', async () => {
    mode('hang');
    const res = await request(t.http).get('/sessions').expect(504);
    expect(res.body).toMatchObject({ code: 'TMUX_TIMEOUT', details: { outcome: 'none' } });
    const grandchild = Number(readFileSync(path.join(dir, 'grandchild'), 'utf8'));
    await new Promise((r) => setTimeout(r, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('exit 0 on SIGTERM is still a timeout, never 200 []', async () => {
    mode('sigterm0');
    expect((await request(t.http).get('/sessions').expect(504)).body.code).toBe('TMUX_TIMEOUT');
  });

  it.each([
    ['crash', 502, 'TMUX_ERROR'],
    ['garbage', 502, 'TMUX_ERROR'],
    ['huge', 502, 'TMUX_ERROR'],
  ])('%s → %i %s', async (m, status, code) => {
    mode(m);
    const res = await request(t.http).get('/sessions').expect(status);
    expect(res.body.code).toBe(code);
    expect(JSON.stringify(res.body)).not.toContain('something odd');
  });

  it('flaky: a read succeeds after one retry; a write is never issued twice', async () => {
    // the start-up listing (§10.2 capture resumes) must not be counted as the retry
    await t.app.get(TranscriptStartup).done;
    const before = calls();
    mode('flaky');
    await request(t.http).get('/sessions').expect(200);
    expect(calls() - before).toBe(2);
  });

  it('the breaker opens after repeated failures, fails fast with Retry-After, and closes after recovery', async () => {
    mode('crash');
    for (let i = 0; i < 6; i++) await request(t.http).get('/sessions');
    const before = calls();
    const started = Date.now();
    const open = await request(t.http).get('/sessions').expect(503);
    expect(Date.now() - started).toBeLessThan(500);
    expect(open.body).toMatchObject({
      code: 'TMUX_UNAVAILABLE',
      details: { reason: 'breaker_open' },
    });
    expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(calls()).toBe(before);
    mode('ok');
    await new Promise((r) => setTimeout(r, 1100));
    await request(t.http).get('/sessions').expect(200);
    await request(t.http).get('/sessions').expect(200);
  });

  it('a create whose new-session could not even be spawned leaves no directory behind', async () => {
    // nothing reached tmux, so nothing can exist: the rollback must not keep the directory for a
    // session that "may still appear" (it asked tmux, failed the same way, and kept it)
    const bin = path.join(dir, 'tmux');
    copyFileSync(FAKE, bin);
    const app = await createTestApp(undefined, {
      MAS_TMUX_BIN: bin,
      MAS_TMUX_SOCKET: path.join(dir, 's'),
      MAS_AGENT_ENV_PASSTHROUGH: 'FAKE_TMUX_DIR',
      FAKE_TMUX_DIR: dir,
    });
    try {
      mode('vanish');
      const res = await request(app.http).post('/runs').send(TEAM).expect(503);
      expect(res.body.details).toMatchObject({ reason: 'not_installed' });
      expect(existsSync(`${bin}.gone`)).toBe(true); // the listing ran, new-session could not
      const sessions = path.join(app.workspace, 'sessions');
      expect(readdirSync(sessions).filter((n) => !n.startsWith('.'))).toEqual([]);
      const index = path.join(sessions, '.sessions.index');
      if (existsSync(index)) expect(readFileSync(index, 'utf8')).not.toMatch(/[0-9a-f]{8}-/);
    } finally {
      await app.close();
    }
  });

  it('bad input never reaches tmux and cannot open the breaker', async () => {
    // the one listing at start (transcript capture resumes for live sessions, §10.2) is not the input's
    await t.app.get(TranscriptStartup).done;
    const before = calls();
    mode('crash');
    for (let i = 0; i < 20; i++) await request(t.http).get('/sessions/NOT-VALID').expect(400);
    expect(calls()).toBe(before);
  });
});

describe('faults without tmux or with a broken real server', () => {
  it('missing binary: liveness 200, readiness 503, list 503 not_installed', async () => {
    const t = await createTestApp(undefined, {
      MAS_TMUX_BIN: '/nonexistent/tmux',
      MAS_TMUX_SOCKET: '/tmp/mf-none/s',
    });
    try {
      await request(t.http).get('/health').expect(200);
      expect((await request(t.http).get('/health/ready').expect(503)).body.code).toBe('NOT_READY');
      const res = await request(t.http).get('/sessions').expect(503);
      expect(res.body).toMatchObject({
        code: 'TMUX_UNAVAILABLE',
        details: { reason: 'not_installed' },
      });
      expect(res.headers['retry-after']).toBeDefined();
    } finally {
      await t.close();
    }
  });

  it('a stopped server answers 504; a killed one makes every session terminated; the socket removed too', async () => {
    const server = TmuxTestServer.create();
    const t = await createTestApp(server, { MAS_TMUX_TIMEOUT_MS: '800', MAS_CACHE_TTL_MS: '0' });
    try {
      const id = writeSessionDir(t.workspace, { units: ['10'] });
      await server.ok(
        'new-session',
        '-d',
        '-s',
        `mas-${id.slice(0, 8)}`,
        '-n',
        'design',
        'sleep 600',
      );
      expect((await request(t.http).get(`/sessions/${id}`).expect(200)).body.status).toBe(
        'inactive',
      );
      const pid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
      process.kill(pid, 'SIGSTOP');
      try {
        expect((await request(t.http).get('/sessions').expect(504)).body.code).toBe('TMUX_TIMEOUT');
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      process.kill(pid, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      expect((await request(t.http).get(`/sessions/${id}`).expect(200)).body.status).toBe(
        'terminated',
      );
      rmSync(server.socket, { force: true });
      expect((await request(t.http).get('/sessions').expect(200)).body.total).toBe(1);
      expect(
        execFileSync('pgrep', ['-f', server.socket], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim(),
      ).toBe('');
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e; // pgrep exits 1 when nothing matches: what we want
    } finally {
      await t.close();
      await server.stop();
    }
  });
});
