import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { WorkspaceError } from '../errors/mas-error';
import { CAPS, readSafe } from './safe-file';

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

const logger = new Logger('SessionsIndex');

/** Missing or empty is an empty registry; unparsable is empty and flagged (contract §6.5). */
export function parseIndex(text: string): IndexRead {
  if (text.trim() === '') return { index: { version: '1.0', sessions: [] }, unreadable: false };
  try {
    const v = JSON.parse(text) as IndexFile;
    if (v && typeof v === 'object' && typeof v.version === 'string' && Array.isArray(v.sessions)) {
      return { index: { ...v, sessions: v.sessions.filter((s) => s && typeof s === 'object' && typeof s.sessionId === 'string') }, unreadable: false };
    }
  } catch {
    /* fall through */
  }
  return { index: { version: '1.0', sessions: [] }, unreadable: true };
}

export async function readIndex(sessionsDir: string): Promise<IndexRead> {
  const r = await readSafe(path.join(sessionsDir, '.sessions.index'), CAPS.index);
  if (!r.ok) return { index: { version: '1.0', sessions: [] }, unreadable: r.reason !== 'missing' };
  return parseIndex(r.text);
}

const isoSeconds = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

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

async function removeIfStale(lock: string): Promise<boolean> {
  try {
    const st = await fsp.lstat(lock);
    const text = await fsp.readFile(lock, 'utf8').catch(() => '');
    const stale = lockIsStale(lock, Number(text.split('\n', 1)[0]), st.mtimeMs);
    if (!stale) return false;
    await fsp.unlink(lock);
    logger.warn(`removed stale index lock (pid ${text.split('\n', 1)[0] || '?'})`);
    return true;
  } catch {
    return true; // vanished meanwhile: try again at once
  }
}

/** Index writers of this process, queued per index so they never contend for the lock file. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Modifies `.sessions.index` under its lock (contract §6.5). Writers of this process queue in memory
 * first (under a soak of concurrent creates and stops, polling the lock file starved some of them past
 * the 5 s limit), so the lock file only arbitrates with other processes: the shell tools.
 */
export function updateIndex(sessionsDir: string, change: (idx: IndexFile) => void, rebuild?: () => Promise<IndexEntry[]>): Promise<void> {
  const prev = queues.get(sessionsDir) ?? Promise.resolve();
  const mine = prev.catch(() => undefined).then(() => updateLocked(sessionsDir, change, rebuild));
  queues.set(sessionsDir, mine);
  void mine.finally(() => queues.get(sessionsDir) === mine && queues.delete(sessionsDir)).catch(() => undefined);
  return mine;
}

/** Exclusive lock file with PID and time, stale-lock recovery, re-read under the lock, temp file + fsync + rename, lock always removed. */
async function updateLocked(sessionsDir: string, change: (idx: IndexFile) => void, rebuild?: () => Promise<IndexEntry[]>): Promise<void> {
  const lock = path.join(sessionsDir, '.sessions.index.lock');
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      await fsp.writeFile(lock, `${process.pid}\n${new Date().toISOString()}\n`, { flag: 'wx' });
      held.add(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new WorkspaceError('not_writable', 'Workspace is not writable');
      if (await removeIfStale(lock)) continue;
      if (Date.now() > deadline) throw new WorkspaceError('index_locked', 'Session index is locked by another process', 1);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
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
    const fh = await fsp.open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(`${JSON.stringify(index, null, 2)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } finally {
    held.delete(lock);
    await fsp.unlink(lock).catch(() => undefined);
  }
}

export { isoSeconds };
