import {
  closeSync,
  constants as C,
  fstatSync,
  openSync,
  renameSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { CheckedDir } from '../../workspace/checked-dir';

/** A range of the transcript the service did not see (service down, capture lost), §10.2. */
export interface TranscriptGap {
  offset: number;
  since: string;
  until: string;
}

/** `output/<agentId>.json`: where the current file begins and what was missed. */
export interface TranscriptState {
  base: number;
  gaps: TranscriptGap[];
}

/** Gaps kept per agent: a flapping capture must not grow the state file without bound. */
const MAX_GAPS = 256;

export const logName = (agentId: string): string => `${agentId}.log`;
export const oldLogName = (agentId: string): string => `${agentId}.log.1`;
export const stateName = (agentId: string): string => `${agentId}.json`;

/**
 * One agent's transcript as the capture appends it: `<agentId>.log` with absolute offsets from
 * `base`, rolled to `.log.1` at `maxBytes` (one old generation). Writes are synchronous, so within
 * the service a read never sees a rollover half done; every path goes through the checked `output`
 * directory's descriptor (A10), and the log is appended through its own open descriptor.
 */
export class TranscriptFile {
  private fd: number;
  private size: number;
  private rollAt: number;
  private lostSince?: Date;
  private readonly logger = new Logger('Capture');

  private constructor(
    private readonly dir: CheckedDir,
    private readonly agentId: string,
    private readonly maxBytes: number,
    private readonly state: TranscriptState,
  ) {
    this.fd = this.openLog();
    this.size = fstatSync(this.fd).size;
    this.rollAt = maxBytes;
  }

  static open(
    dir: CheckedDir,
    agentId: string,
    maxBytes: number,
    state: TranscriptState,
  ): TranscriptFile {
    return new TranscriptFile(dir, agentId, maxBytes, state);
  }

  /** Offset the next byte gets. */
  get end(): number {
    return this.state.base + this.size;
  }

  append(bytes: Buffer): void {
    if (this.fd < 0) this.reopen();
    for (let at = 0; at < bytes.length; ) {
      const n = writeSync(this.fd, bytes, at, bytes.length - at);
      at += n;
      this.size += n;
    }
    if (this.size >= this.rollAt) this.rollover();
  }

  /** Records that bytes may be missing at the current end between `since` and now. */
  gap(since: Date, until = new Date()): void {
    this.state.gaps.push({
      offset: this.end,
      since: since.toISOString(),
      until: until.toISOString(),
    });
    this.state.gaps.splice(0, Math.max(0, this.state.gaps.length - MAX_GAPS));
    this.saveState();
  }

  /** Idempotent and never throws: it runs from exit handlers, where a throw would end the process. */
  close(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      closeSync(fd);
    } catch {
      // already gone: nothing left to release
    }
  }

  /**
   * A14-8: the descriptor is closed only once the rename has happened, so a rename that fails
   * (something left at `.log.1`) keeps appending to the same file, trying again one `maxBytes` later.
   */
  private rollover(): void {
    try {
      renameSync(this.dir.at(logName(this.agentId)), this.dir.at(oldLogName(this.agentId)));
    } catch (e) {
      this.rollAt = this.size + this.maxBytes;
      this.logger.warn(`transcript ${logName(this.agentId)} not rolled over: ${String(e)}`);
      return;
    }
    this.close();
    this.state.base += this.size;
    this.size = 0;
    this.rollAt = this.maxBytes;
    try {
      this.saveState();
    } catch (e) {
      this.logger.warn(`transcript ${stateName(this.agentId)} not saved: ${String(e)}`);
    }
    this.reopen();
  }

  /** A log that cannot be opened again loses bytes: the next successful open records them as a gap. */
  private reopen(): void {
    try {
      this.fd = this.openLog();
    } catch (e) {
      this.lostSince ??= new Date();
      throw e;
    }
    this.size = fstatSync(this.fd).size;
    if (this.lostSince) this.gap(this.lostSince);
    this.lostSince = undefined;
  }

  private openLog(): number {
    const flags = C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW;
    const fd = openSync(this.dir.at(logName(this.agentId)), flags, 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error(`${logName(this.agentId)} is not a regular file`);
    }
    return fd;
  }

  /** Temporary file and rename, through the directory's descriptor (§6.3). */
  private saveState(): void {
    const tmp = `${stateName(this.agentId)}.tmp.${randomBytes(4).toString('hex')}`;
    writeFileSync(this.dir.at(tmp), JSON.stringify(this.state), { mode: 0o600, flag: 'wx' });
    renameSync(this.dir.at(tmp), this.dir.at(stateName(this.agentId)));
  }
}
