import { constants as C, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Why a session directory cannot be written through: it is not (or no longer) the real directory expected. */
export class UnsafeDirError extends Error {}

/**
 * A directory opened once (O_DIRECTORY | O_NOFOLLOW) and written only through its descriptor, as
 * `/proc/self/fd/<fd>/<name>` (contract A10). Renaming the directory away and putting a symlink in its
 * place between a check and a write cannot redirect the write: the descriptor still names the directory
 * that was checked. `verify()` runs immediately before each write, so a directory that has moved since
 * it was opened is refused rather than written in its new place. Linux only (/proc), as is the service.
 */
export class CheckedDir {
  private constructor(
    private readonly fh: fsp.FileHandle,
    readonly expected: string,
  ) {}

  /** Opens `expected` without following a final symlink and checks the kernel's path of the descriptor. */
  static async open(expected: string): Promise<CheckedDir> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(expected, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
    } catch (e) {
      throw new UnsafeDirError(
        `${expected} is not a real directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
    const dir = new CheckedDir(fh, expected);
    try {
      await dir.verify();
    } catch (e) {
      await dir.close();
      throw e;
    }
    return dir;
  }

  /** The descriptor itself, for a child process that must reach the directory the same way (mkfifo). */
  get fd(): number {
    return this.fh.fd;
  }

  /** The path that reaches the checked directory itself, whatever has since been renamed around it. */
  get fdPath(): string {
    return `/proc/self/fd/${this.fh.fd}`;
  }

  at(name: string): string {
    return `${this.fdPath}/${name}`;
  }

  /**
   * Still a directory, and its real path (every component resolved by the kernel) is still exactly the
   * expected one: no symlinked parent, not renamed, not deleted.
   */
  async verify(): Promise<void> {
    const st = await this.fh.stat();
    if (!st.isDirectory()) throw new UnsafeDirError(`${this.expected} is not a directory`);
    const real = await fsp.readlink(this.fdPath).catch(() => '');
    if (real !== this.expected)
      throw new UnsafeDirError(`${this.expected} has moved (now ${real || 'unknown'})`);
  }

  /** Creates `name` exclusively (O_EXCL never follows a symlink), after a fresh check. */
  async create(name: string, text: string, mode: number): Promise<void> {
    await this.verify();
    await fsp.writeFile(this.at(name), text, { mode, flag: 'wx' });
  }

  /** Creates the subdirectory `name` (fails if anything, a symlink included, is there), after a fresh check. */
  async mkdir(name: string): Promise<void> {
    await this.verify();
    await fsp.mkdir(this.at(name), { mode: 0o755 });
  }

  /** Temporary file beside the target, then rename over it, both through the descriptor (§6.3). */
  async replace(name: string, text: string): Promise<void> {
    await this.verify();
    const tmp = `${name}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
    await fsp.writeFile(this.at(tmp), text, { mode: 0o644, flag: 'wx' });
    try {
      await fsp.rename(this.at(tmp), this.at(name));
    } catch (e) {
      await fsp.unlink(this.at(tmp)).catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

/** Opens `expected`, runs `fn` with it, always closes it. */
export async function withCheckedDir<T>(
  expected: string,
  fn: (dir: CheckedDir) => Promise<T>,
): Promise<T> {
  const dir = await CheckedDir.open(path.resolve(expected));
  try {
    return await fn(dir);
  } finally {
    await dir.close();
  }
}
