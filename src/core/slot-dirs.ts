import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

/**
 * A3: before any slot's pane starts, its `unit/<nn>` is created if missing and must then be a real
 * directory whose real path lies under the session directory. tmux starts a pane whose `-c`
 * directory is missing in the service's own working directory (T-43), and a symlinked one in its
 * target, with an agent that may skip permission checks. Answers the roster ids that failed: those
 * slots get an idle shell in the session directory instead. Never creates anything through a link.
 */
export async function unsafeSlots(sessionDir: string, roster: string[]): Promise<Set<string>> {
  const unitDir = path.join(sessionDir, 'unit');
  if (!(await realDir(unitDir, sessionDir, true))) return new Set(roster);
  const unsafe = new Set<string>();
  for (const id of roster)
    if (!(await realDir(path.join(unitDir, id), unitDir, true))) unsafe.add(id);
  return unsafe;
}

/** True when the session directory is exactly its expected path: no symlink anywhere in it. */
export async function isRealPath(dir: string): Promise<boolean> {
  return (await fsp.realpath(dir).catch(() => '')) === dir;
}

/** `dir` exists (created 0755 if `create` and missing) as a real directory directly under `parent`. */
async function realDir(dir: string, parent: string, create: boolean): Promise<boolean> {
  if (create) await fsp.mkdir(dir, { mode: 0o755 }).catch(() => undefined); // EEXIST: checked below
  const st = await fsp.lstat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return false; // missing, a symlink, a file, a FIFO
  const [real, realParent] = await Promise.all([
    fsp.realpath(dir).catch(() => ''),
    fsp.realpath(parent).catch(() => ''),
  ]);
  return realParent !== '' && real === path.join(realParent, path.basename(dir));
}
