import { constants as C, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { WorkspaceError } from '../errors/mas-error';

const MAX_ENTRIES = 2000;
const MAX_BYTES = 20 * 1024 * 1024;

/**
 * Copies `mas init` templates into a new session (contract §6.6): `<ws>/unit/<nn>/` per roster agent
 * and `<ws>/workflows/`. Regular files and directories only; links, FIFOs and devices are skipped.
 * `sessionDir` is the checked descriptor path of the new directory (A10); every entry is created
 * exclusively (no recursive mkdir, COPYFILE_EXCL), so nothing planted in it is followed.
 */
export async function copyTemplates(
  root: string,
  sessionDir: string,
  agents: string[],
): Promise<void> {
  const budget = { entries: 0, bytes: 0 };
  for (const a of agents)
    await copyTree(path.join(root, 'unit', a), path.join(sessionDir, 'unit', a), budget);
  await copyTree(path.join(root, 'workflows'), path.join(sessionDir, 'workflows'), budget);
}

async function copyTree(
  src: string,
  dst: string,
  budget: { entries: number; bytes: number },
): Promise<void> {
  let entries;
  try {
    if (!(await fsp.lstat(src)).isDirectory()) return;
    entries = await fsp.readdir(src, { withFileTypes: true });
  } catch {
    return; // missing source: the directory stays empty
  }
  for (const e of entries) {
    if (!e.isFile() && !e.isDirectory()) continue;
    if (++budget.entries > MAX_ENTRIES)
      throw new WorkspaceError('template_too_large', 'Workspace templates exceed 2000 entries');
    const from = path.join(src, e.name);
    const to = path.join(dst, e.name);
    if (e.isDirectory()) {
      await fsp.mkdir(to, { mode: 0o755 });
      await copyTree(from, to, budget);
    } else {
      budget.bytes += (await fsp.lstat(from)).size;
      if (budget.bytes > MAX_BYTES)
        throw new WorkspaceError('template_too_large', 'Workspace templates exceed 20 MiB');
      await fsp.copyFile(from, to, C.COPYFILE_EXCL);
    }
  }
}
