import {
  accessSync,
  closeSync,
  constants as C,
  fstatSync,
  lstatSync,
  openSync,
  type Stats,
  unlinkSync,
} from 'node:fs';
import { Socket } from 'node:net';
import * as path from 'node:path';
import type { Logger } from '@nestjs/common';
import { makeFifos } from '../../tmux/tmux-runner';
import type { CheckedDir } from '../../workspace/checked-dir';
import { SAFE_WORD } from '../../workspace/key-value';

/** The coreutils the pipes need, by absolute path (§10.2: `exec <helper> <file>`, both absolute). */
export interface PipeBinaries {
  tee: string;
  mkfifo: string;
}

/** Resolved once at start; undefined when either is missing (capture then falls back to `%output`). */
export function findPipeBinaries(): PipeBinaries | undefined {
  const find = (name: string) =>
    ['/usr/bin', '/bin']
      .map((d) => `${d}/${name}`)
      .find((p) => {
        try {
          accessSync(p, C.X_OK);
          return true;
        } catch {
          return false;
        }
      });
  const tee = find('tee');
  const mkfifo = find('mkfifo');
  return tee && mkfifo ? { tee, mkfifo } : undefined;
}

export const fifoName = (agentId: string): string => `${agentId}.fifo`;

const isOurFifo = (st: Stats): boolean =>
  st.isFIFO() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;

interface OpenPipe {
  fd: number;
  socket: Socket;
}

/**
 * One session's agent FIFOs, `output/<agentId>.fifo` (§10.2, decision 0008): each agent pane's
 * `pipe-pane -O 'exec <tee> <session dir>/output/<agentId>.fifo'` writes every byte the pane prints
 * into it, and the service reads it as a pipe socket (never an fs stream: those block libuv's pool).
 *
 * The FIFO is made and opened through the checked `output` directory (A10): `O_NOFOLLOW` refuses a
 * symlink, and the descriptor must be a FIFO of ours, mode 0600, else it is refused. `tee` gets the
 * FIFO's absolute path, the one form §10.2 allows, because it must mean the same file to a tmux
 * server in another pid namespace (docs/deploy.md B, where the workspace has the same path on both
 * sides): a `/proc/<our pid>/fd/<n>` there named another process's descriptor (A14d-1). What that
 * leaves open: a same-user process that swaps the name between our check and `tee`'s open (a few
 * ms) can redirect the pane's bytes. The FIFO is held open read-write, so a `tee` that has not
 * opened it yet, or has gone, is never an end of file.
 */
export class AgentPipes {
  private readonly open = new Map<string, OpenPipe>();
  private closed = false;

  constructor(
    private readonly dir: CheckedDir,
    private readonly bins: PipeBinaries,
    private readonly onBytes: (agentId: string, bytes: Buffer) => void,
    private readonly logger: Logger,
    private readonly label: string,
  ) {}

  has(agentId: string): boolean {
    return this.open.has(agentId);
  }

  /**
   * Makes and opens the FIFOs of `agentIds` not open yet; answers each open one's `pipe-pane`
   * command. An agent whose FIFO is refused (or could not be made) has none: nothing pipes into it.
   */
  async prepare(agentIds: string[]): Promise<Map<string, string>> {
    const fresh = agentIds.filter((a) => !this.open.has(a) && SAFE_WORD.test(fifoName(a)));
    if (fresh.length && !this.closed) {
      await this.dir.verify();
      for (const a of fresh) this.clearImpostor(fifoName(a));
      await makeFifos(this.bins.mkfifo, this.dir.fd, fresh.map(fifoName));
    }
    for (const agentId of fresh) {
      if (this.closed) break;
      // a prepare running alongside (a create's and a snapshot's) opened it meanwhile: a second
      // reader would split the FIFO's bytes between two sockets and leak one at close
      if (this.open.has(agentId)) continue;
      try {
        this.openOne(agentId);
      } catch (e) {
        this.logger.warn(`transcript ${this.label}/${agentId}: no pipe (${String(e)})`);
      }
    }
    const out = new Map<string, string>();
    for (const a of agentIds) {
      const cmd = this.open.has(a) ? this.command(a) : undefined;
      if (cmd) out.set(a, cmd);
    }
    return out;
  }

  /** Stops reading: a `tee` still writing gets SIGPIPE once no reader is left, and tmux clears its pipe. */
  close(): void {
    this.closed = true;
    for (const p of this.open.values()) p.socket.destroy();
    this.open.clear();
  }

  /**
   * Removes what sits at our FIFO's name but is no FIFO of ours with mode 0600 (a symlink, a regular
   * file, a FIFO another made): left there, it would keep the agent from being captured, silently,
   * for as long as the session lives (A14d-4). Unlinking a symlink never touches its target.
   */
  private clearImpostor(name: string): void {
    try {
      const st = lstatSync(this.dir.at(name));
      if (isOurFifo(st)) return;
      unlinkSync(this.dir.at(name));
      this.logger.warn(
        `transcript ${this.label}: removed ${name}, which was not a FIFO of ours (A10)`,
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn(`transcript ${this.label}: ${name} (${String(e)})`);
    }
  }

  private openOne(agentId: string): void {
    const fd = openSync(this.dir.at(fifoName(agentId)), C.O_RDWR | C.O_NONBLOCK | C.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!isOurFifo(st)) {
      closeSync(fd);
      throw new Error(`${fifoName(agentId)} is not a FIFO of ours, mode 0600`);
    }
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.on('data', (b: Buffer) => this.onBytes(agentId, b));
    socket.on('error', (e) => this.logger.warn(`transcript ${this.label}/${agentId}: ${e}`));
    this.open.set(agentId, { fd, socket });
  }

  /** R7's one exception: a fixed template of absolute, service-chosen safe words, no request text. */
  private command(agentId: string): string | undefined {
    const target = path.join(this.dir.expected, fifoName(agentId));
    return SAFE_WORD.test(this.bins.tee) && SAFE_WORD.test(target)
      ? `exec ${this.bins.tee} ${target}`
      : undefined;
  }
}
