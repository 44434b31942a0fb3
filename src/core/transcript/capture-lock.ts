import {
  closeSync,
  constants as C,
  fstatSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { CheckedDir } from '../../workspace/checked-dir';

export const LOCK_NAME = 'capture.lock';
/** A lock whose content cannot be read yet may be one being written this instant; after this it is debris. */
const UNREADABLE_STALE_MS = 5000;

/** `starttime` (field 22 of /proc/<pid>/stat, clock ticks since boot): with the pid, names one process. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const PROCESS = `${process.pid} ${startTimeOf(process.pid) ?? '?'}`;

/**
 * The one-capturing-process rule of §10.2 (decision 0008): `output/capture.lock`, created exclusively
 * and without following a symlink through the checked `output` directory (A10), 0600, holding
 * `<pid> <start time> <owner> <token>`. A lock whose process is gone, or whose pid now names a
 * process that started at another time (a reused pid), is stale and taken over, so a crash never
 * blocks capture. `owner` names the capturing service instance (two may share a process: tests),
 * `token` this capture, so an earlier capture of the same session by the same owner (closing now)
 * is taken over and its release leaves the new lock alone.
 */
export class CaptureLock {
  private readonly token = randomBytes(6).toString('hex');
  private held = false;

  private constructor(
    private readonly dir: CheckedDir,
    private readonly owner: string,
  ) {}

  /** The lock, or undefined when another live owner holds it (or the directory refuses it). */
  static take(dir: CheckedDir, owner: string): CaptureLock | undefined {
    const lock = new CaptureLock(dir, owner);
    const self = `${PROCESS} ${owner} `;
    for (let i = 0; i < 2; i++) {
      if (lock.create()) return lock;
      const owner = lock.read();
      if (owner === undefined) return undefined;
      // held by a live process: ours (an earlier capture of this session, now closing) is taken over
      if (owner !== 'stale' && !owner.startsWith(self)) return undefined;
      try {
        unlinkSync(dir.at(LOCK_NAME));
      } catch {
        /* someone else removed it: try creating again */
      }
    }
    return undefined;
  }

  /** Whether the file still names this capture: false once another process took it over. */
  stillHeld(): boolean {
    const owner = this.held ? this.read() : undefined;
    return owner === this.content();
  }

  /** Removes the lock if it is still this capture's. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (this.read() !== this.content()) return;
    try {
      unlinkSync(this.dir.at(LOCK_NAME));
    } catch {
      /* gone already */
    }
  }

  private content(): string {
    return `${PROCESS} ${this.owner} ${this.token}\n`;
  }

  private create(): boolean {
    let fd: number;
    try {
      const flags = C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW;
      fd = openSync(this.dir.at(LOCK_NAME), flags, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd, this.content());
    } finally {
      closeSync(fd);
    }
    this.held = true;
    return true;
  }

  /** The lock's content while its process lives; 'stale' when it does not; undefined when unreadable (a symlink, gone). */
  private read(): string | 'stale' | undefined {
    let fd: number;
    try {
      fd = openSync(this.dir.at(LOCK_NAME), C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    } catch (e) {
      // vanished between our create and this read: free now, the next attempt creates it
      return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'stale' : undefined;
    }
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      const text = readFileSync(fd, 'latin1');
      const [pid, start] = text.split(' ');
      if (!/^\d+$/.test(pid ?? '') || !start)
        return Date.now() - fstatSync(fd).mtimeMs > UNREADABLE_STALE_MS ? 'stale' : undefined;
      return startTimeOf(Number(pid)) === start.trim() ? text : 'stale';
    } finally {
      closeSync(fd);
    }
  }
}
