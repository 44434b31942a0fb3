import { lstat, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import type { MasConfig } from '../config/mas-config';
import { TmuxError } from '../errors/mas-error';

/** How long a bad verdict stands before the directory is looked at again (an operator may fix it). */
const BAD_FOR_MS = 1000;

/**
 * The default socket's directory, `${TMUX_TMPDIR:-/tmp}/tmux-<uid>` (A4, T-01). tmux makes it only
 * when it picks the socket itself; given `-S` it does not, so on a fresh machine the first create
 * would fail. We make it 0700 as tmux does, and refuse one that is not ours or that others can enter
 * (any bit for others: 0750 is fine, 0751 is not) with 503 `misconfigured`, before any tmux call.
 * Checked once, and again only after a tmux call failed: no stat per call.
 */
export class SocketDirGuard {
  private readonly logger = new Logger('TmuxSocket');
  private ok = false;
  private bad?: { error: TmuxError; until: number };
  private checking?: Promise<void>;

  constructor(
    /** Undefined when MAS_TMUX_SOCKET names the socket: the operator chose it, we leave it alone. */
    private readonly dir: string | undefined,
    private readonly uid: number = process.getuid?.() ?? 0,
  ) {}

  static of(cfg?: MasConfig): SocketDirGuard {
    return new SocketDirGuard(
      cfg && !cfg.tmuxSocketExplicit ? path.dirname(cfg.tmuxSocket) : undefined,
    );
  }

  /** Resolves when the directory is usable; throws 503 `misconfigured` when it is not. */
  async ensure(): Promise<void> {
    if (!this.dir || this.ok) return;
    if (this.bad && Date.now() < this.bad.until) throw this.bad.error;
    await (this.checking ??= this.verify(this.dir).finally(() => (this.checking = undefined)));
  }

  /** A tmux call failed: the directory may have gone (a /tmp cleaner) or changed; look again next time. */
  recheck(): void {
    this.ok = false;
  }

  private async verify(dir: string): Promise<void> {
    const problem = await this.problem(dir);
    if (!problem) {
      if (this.bad) this.logger.log(`tmux socket directory ${dir} is usable again`);
      this.ok = true;
      this.bad = undefined;
      return;
    }
    if (this.bad?.error.internal?.problem !== problem)
      this.logger.error(
        `tmux socket directory ${dir}: ${problem}; tmux calls answer 503 misconfigured`,
      );
    const error = TmuxError.unavailable('misconfigured', 5, { op: 'socket-dir', problem });
    this.bad = { error, until: Date.now() + BAD_FOR_MS };
    throw error;
  }

  private async problem(dir: string): Promise<string | undefined> {
    try {
      await mkdir(dir, { mode: 0o700 });
      this.logger.log(`created the tmux socket directory ${dir} (0700)`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST')
        return `cannot be created (${(e as NodeJS.ErrnoException).code})`;
    }
    try {
      const st = await lstat(dir);
      if (!st.isDirectory()) return 'is not a directory';
      if (st.uid !== this.uid) return `is owned by uid ${st.uid}, not ${this.uid}`;
      if (st.mode & 0o007)
        return `has unsafe permissions ${(st.mode & 0o777).toString(8)} (others may enter)`;
      return undefined;
    } catch (e) {
      return `cannot be read (${(e as NodeJS.ErrnoException).code})`;
    }
  }
}
