import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { acquireLock, releaseLock } from './index-lock';
import { CAPS, readSafe, type SafeRead } from './safe-file';

export interface IndexEntry {
  sessionId: string;
  tmuxSession?: string;
  status?: string;
  createdAt?: string;
  workingDir?: string;
  [k: string]: unknown;
}

export interface IndexFile {
  version: string;
  sessions: IndexEntry[];
  lastUpdated?: string;
  [k: string]: unknown;
}

export type IndexRead = { index: IndexFile; unreadable: boolean };

/** Missing or empty is an empty registry; unparsable is empty and flagged (contract §6.5). */
export function parseIndex(text: string): IndexRead {
  if (text.trim() === '') return { index: { version: '1.0', sessions: [] }, unreadable: false };
  try {
    const v = JSON.parse(text) as IndexFile;
    if (v && typeof v === 'object' && typeof v.version === 'string' && Array.isArray(v.sessions)) {
      return {
        index: {
          ...v,
          sessions: v.sessions.filter(
            (s) => s && typeof s === 'object' && typeof s.sessionId === 'string',
          ),
        },
        unreadable: false,
      };
    }
  } catch {
    /* fall through */
  }
  return { index: { version: '1.0', sessions: [] }, unreadable: true };
}

/**
 * The one index reader. Writers read fresh under the lock; the catalogue passes its
 * (inode, size, mtime)-cached read, so an unchanged index is not read again.
 */
export async function readIndex(
  sessionsDir: string,
  read: (file: string, cap: number) => Promise<SafeRead> = readSafe,
): Promise<IndexRead> {
  const r = await read(path.join(sessionsDir, '.sessions.index'), CAPS.index);
  if (!r.ok) return { index: { version: '1.0', sessions: [] }, unreadable: r.reason !== 'missing' };
  return parseIndex(r.text);
}

const isoSeconds = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Index writers of this process, queued per index so they never contend for the lock file. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Modifies `.sessions.index` under its lock (contract §6.5). Writers of this process queue in memory
 * first (under a soak of concurrent creates and stops, polling the lock file starved some of them past
 * the 5 s limit), so the lock file only arbitrates with other processes: the shell tools.
 */
export function updateIndex(
  sessionsDir: string,
  change: (idx: IndexFile) => void,
  rebuild?: () => Promise<IndexEntry[]>,
): Promise<void> {
  const prev = queues.get(sessionsDir) ?? Promise.resolve();
  const mine = prev.catch(() => undefined).then(() => updateLocked(sessionsDir, change, rebuild));
  queues.set(sessionsDir, mine);
  void mine
    .finally(() => queues.get(sessionsDir) === mine && queues.delete(sessionsDir))
    .catch(() => undefined);
  return mine;
}

/** The lock (index-lock.ts), re-read under the lock, temp file + fsync + rename, lock always removed. */
async function updateLocked(
  sessionsDir: string,
  change: (idx: IndexFile) => void,
  rebuild?: () => Promise<IndexEntry[]>,
): Promise<void> {
  const lock = path.join(sessionsDir, '.sessions.index.lock');
  await acquireLock(lock);
  const file = path.join(sessionsDir, '.sessions.index');
  try {
    const read = await readIndex(sessionsDir);
    let index = read.index;
    if (read.unreadable) {
      const stamp = isoSeconds().replace(/[-:]/g, '');
      await fsp.rename(file, `${file}.corrupt-${stamp}`).catch(() => undefined);
      index = { version: '1.0', sessions: rebuild ? await rebuild() : [] };
    }
    change(index);
    index.lastUpdated = isoSeconds();
    const tmp = `${file}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      const fh = await fsp.open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(`${JSON.stringify(index, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, file);
    } catch (e) {
      await fsp.unlink(tmp).catch(() => undefined); // a failed write (disk full) leaves no temp file behind
      throw e;
    }
  } finally {
    await releaseLock(lock);
  }
}

export { isoSeconds };
