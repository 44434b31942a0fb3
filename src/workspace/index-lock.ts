import { promises as fsp } from 'node:fs';
import { Logger } from '@nestjs/common';
import { WorkspaceError } from '../errors/mas-error';
import { readSafe } from './safe-file';

const logger = new Logger('SessionsIndex');

const LOCK_WAIT_MS = 5000;
const LOCK_POLL_MS = 100;
/** Lock contents are a PID and a time: anything bigger is not a lock any tool of ours wrote. */
const LOCK_CAP = 4096;
/** Immediate retries (after a stale lock went, or the lock vanished) allowed between two polls. */
const FAST_RETRIES = 3;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds right now; any other lock naming our PID is a leftover (A17). */
const held = new Set<string>();

/**
 * A lock is stale when its PID is not running, its mtime is over 30 s old, or it names this very
 * process while this process does not hold it: after a container restart the service often gets the
 * PID of the process that left the lock behind, and would otherwise wait it out (A17).
 */
export function lockIsStale(lock: string, pid: number, mtimeMs: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return !held.has(lock);
  return !pidAlive(pid) || Date.now() - mtimeMs > 30_000;
}

/** `foreign`: something that is not a regular file, so no lock at all; it is waited on like a held one. */
type LockState = 'held' | 'foreign' | 'removed' | 'gone';

/**
 * Looks at an existing lock the safe way (§6.2): a blocking read of a FIFO there hung a libuv thread,
 * and with it every later index write, for good. Only a regular file can be a lock; anything else (a
 * FIFO, a directory, a symlink, a device) is someone else's and is treated as held, never deleted.
 */
async function inspect(lock: string): Promise<LockState> {
  let st;
  try {
    st = await fsp.lstat(lock);
  } catch {
    return 'gone';
  }
  if (!st.isFile()) return 'foreign';
  const r = await readSafe(lock, LOCK_CAP);
  if (!r.ok && r.reason === 'missing') return 'gone';
  if (!r.ok && r.reason === 'not_regular') return 'foreign'; // swapped since the lstat
  // a regular file that cannot be read as a lock (too big, not UTF-8) names no running holder: stale
  const first = r.ok ? r.text.split('\n', 1)[0] : '';
  if (!lockIsStale(lock, Number(first), r.ok ? r.mtimeMs : st.mtimeMs)) return 'held';
  try {
    await fsp.unlink(lock);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'held';
  }
  logger.warn(`removed stale index lock (pid ${first || '?'})`);
  return 'removed';
}

/**
 * Creates the lock file exclusively with PID and time (§6.5). Every path that does not get the lock
 * either retries at once (a stale lock removed, or the lock gone: at most FAST_RETRIES in a row) or
 * waits the 100 ms poll, and the 5 s deadline is checked before every wait, so no lock on disk can keep
 * this loop spinning or waiting past it.
 */
export async function acquireLock(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let fast = 0;
  for (;;) {
    try {
      await fsp.writeFile(lock, `${process.pid}\n${new Date().toISOString()}\n`, { flag: 'wx' });
      held.add(lock);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new WorkspaceError('not_writable', 'Workspace is not writable');
    }
    const state = await inspect(lock);
    if ((state === 'removed' || state === 'gone') && fast++ < FAST_RETRIES) continue;
    fast = 0;
    if (Date.now() >= deadline) {
      if (state === 'foreign')
        logger.warn(
          `${lock} is not a regular file: index writes wait on it until it is removed by hand`,
        );
      throw new WorkspaceError('index_locked', 'Session index is locked by another process', 1);
    }
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS));
  }
}

/** Removes our lock; whatever is not a regular file there now was put by someone else and stays. */
export async function releaseLock(lock: string): Promise<void> {
  held.delete(lock);
  const st = await fsp.lstat(lock).catch(() => undefined);
  if (st?.isFile()) await fsp.unlink(lock).catch(() => undefined);
}
