import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { mkfifoSync } from '../../test/support/mkfifo';
import { lockIsStale } from './index-lock';
import { updateIndex } from './sessions-index';

describe('index lock (contract §6.5, A17)', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync('/tmp/msi-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a live foreign PID with a fresh mtime is held; a dead PID, an old mtime or garbage is stale', () => {
    const lock = path.join(dir, 'x.lock');
    expect(lockIsStale(lock, 1, Date.now())).toBe(false); // init is always running
    expect(lockIsStale(lock, 1, Date.now() - 31_000)).toBe(true);
    expect(lockIsStale(lock, NaN, Date.now())).toBe(true);
    expect(lockIsStale(lock, 2 ** 22 + 1, Date.now())).toBe(true); // above pid_max's ceiling: never running
  });

  it('#17 A17 a lock naming this process while it does not hold it is stale at once', async () => {
    const lock = path.join(dir, '.sessions.index.lock');
    expect(lockIsStale(lock, process.pid, Date.now())).toBe(true);
    writeFileSync(lock, `${process.pid}\n${new Date().toISOString()}\n`);
    const t0 = Date.now();
    await updateIndex(dir, (idx) => void idx.sessions.push({ sessionId: 'a' }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(existsSync(lock)).toBe(false);
  });

  it('the lock this process holds is not stale while it holds it', async () => {
    const lock = path.join(dir, '.sessions.index.lock');
    let during: boolean | undefined;
    await updateIndex(dir, () => void (during = lockIsStale(lock, process.pid, Date.now())));
    expect(during).toBe(false);
  });
});

describe('index lock that is not a regular file (FIFO, directory, symlink): held, never read, never deleted', () => {
  let root: string;
  beforeAll(() => (root = mkdtempSync('/tmp/msi-nr-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  const cases: [string, (lock: string) => void, (lock: string) => boolean][] = [
    ['FIFO', (l) => mkfifoSync(l), (l) => lstatSync(l).isFIFO()],
    ['directory', (l) => mkdirSync(l), (l) => lstatSync(l).isDirectory()],
    [
      'symlink to a stale-looking lock',
      (l) => {
        writeFileSync(`${l}.target`, '999999999\n2020-01-01T00:00:00Z\n');
        symlinkSync(`${l}.target`, l);
      },
      (l) => lstatSync(l).isSymbolicLink(),
    ],
  ];

  it('#ws2-1 #ws2-2 each answers index_locked after the 5 s limit (not a hang, not a spin) and is left in place', async () => {
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    const results = await Promise.all(
      cases.map(async ([name, make, still], i) => {
        const dir = path.join(root, String(i));
        mkdirSync(dir);
        const lock = path.join(dir, '.sessions.index.lock');
        make(lock);
        const err = await updateIndex(
          dir,
          (idx) => void idx.sessions.push({ sessionId: name }),
        ).then(
          () => undefined,
          (e: unknown) => e,
        );
        return {
          name,
          err,
          ms: Date.now() - t0,
          kept: still(lock),
          index: existsSync(path.join(dir, '.sessions.index')),
        };
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    for (const r of results) {
      expect(r.err).toMatchObject({
        code: 'WORKSPACE_UNAVAILABLE',
        details: { reason: 'index_locked' },
      });
      expect(r.ms).toBeGreaterThanOrEqual(4900);
      expect(r.ms).toBeLessThan(6500);
      expect(r.kept).toBe(true);
      expect(r.index).toBe(false);
    }
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(1500); // 100 ms polls, not a busy loop
  }, 15_000);
});
