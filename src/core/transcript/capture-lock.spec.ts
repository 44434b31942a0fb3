import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CheckedDir } from '../../workspace/checked-dir';
import { CaptureLock, LOCK_NAME, startTimeOf } from './capture-lock';

describe('CaptureLock (A14-5: one capturing process per session)', () => {
  let root: string;
  let dir: CheckedDir;
  const file = () => path.join(root, LOCK_NAME);

  beforeEach(async () => {
    root = mkdtempSync('/tmp/caplock-');
    dir = await CheckedDir.open(root);
  });
  afterEach(async () => {
    await dir.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('is created 0600 with pid and start time, and removed on release', () => {
    const lock = CaptureLock.take(dir, 'me')!;
    expect(readFileSync(file(), 'utf8')).toMatch(
      new RegExp(`^${process.pid} ${startTimeOf(process.pid)} me [0-9a-f]+\\n$`),
    );
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(lock.stillHeld()).toBe(true);
    lock.release();
    expect(() => statSync(file())).toThrow();
  });

  it('a live other process holds it: refused, and left alone', () => {
    const other = `1 ${startTimeOf(1)} abc\n`;
    writeFileSync(file(), other);
    expect(CaptureLock.take(dir, 'me')).toBeUndefined();
    expect(readFileSync(file(), 'utf8')).toBe(other);
  });

  it('a lock left by a crash (its pid reused by a process started at another time) is taken over', () => {
    writeFileSync(file(), `1 1${startTimeOf(1)} abc\n`);
    expect(CaptureLock.take(dir, 'me')).toBeDefined();
    expect(readFileSync(file(), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
  });

  it('an earlier capture of this process is taken over; its release then leaves the new lock', () => {
    const old = CaptureLock.take(dir, 'me')!;
    const now = CaptureLock.take(dir, 'me')!;
    old.release();
    expect(now.stillHeld()).toBe(true);
    expect(old.stillHeld()).toBe(false);
  });

  it('another owner in this same process (a second service instance) is refused', () => {
    CaptureLock.take(dir, 'me');
    expect(CaptureLock.take(dir, 'other')).toBeUndefined();
  });

  it('a symlink in its place is neither followed nor removed', () => {
    symlinkSync('/etc/passwd', file());
    expect(CaptureLock.take(dir, 'me')).toBeUndefined();
  });
});
