import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { CheckedDir } from '../../workspace/checked-dir';

/** The checked session directory's `output` (0700), created if missing, opened as its own checked directory (A10). */
export async function openOutputDir(sessionDir: string): Promise<CheckedDir> {
  const session = await CheckedDir.open(path.resolve(sessionDir));
  try {
    mkdirSync(session.at('output'), { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await session.close();
  }
  return CheckedDir.open(path.join(path.resolve(sessionDir), 'output'));
}

/** A gap starts when the last byte was written (the log's mtime), else when the caller says. */
export function sinceOf<T extends Date | undefined>(log: string, fallback: T): Date | T {
  try {
    return statSync(log).mtime;
  } catch {
    return fallback;
  }
}
