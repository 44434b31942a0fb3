import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { lockIsStale, updateIndex } from './sessions-index';

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
