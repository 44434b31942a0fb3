import type { Logger } from '@nestjs/common';
import type { CheckedDir } from '../../workspace/checked-dir';
import { sinceOf } from './capture-dir';
import { logName, stateName, TranscriptFile } from './transcript-file';
import { readState } from './transcript-state';

/**
 * The transcript files of one session's agents, opened on first use through the checked `output`
 * directory (A10). With `gapSince` (a service restart), a file records a gap when first opened,
 * from its last write. Once closed nothing is opened or written again.
 */
export class AgentFiles {
  private readonly files = new Map<string, TranscriptFile>();
  private closed = false;
  /** Told the log's mtime when a file holding bytes is opened (lastOutputAt survives a restart). */
  lastWritten?: (agentId: string, at: Date) => void;

  constructor(
    private readonly dir: CheckedDir,
    private readonly maxBytes: number,
    private readonly logger: Logger,
    private readonly label: string,
    private readonly gapSince?: Date,
  ) {}

  /** The agents whose file is open. */
  agentIds(): string[] {
    return [...this.files.keys()];
  }

  /** Appends and answers the offset of the first byte; undefined when nothing was written. */
  append(agentId: string, bytes: Buffer): number | undefined {
    if (this.closed) return undefined;
    try {
      const f = this.file(agentId);
      const from = f.end;
      f.append(bytes);
      return from;
    } catch (e) {
      this.logger.warn(`transcript ${this.label}/${agentId} not written: ${String(e)}`);
      return undefined;
    }
  }

  /** Opens the file (recording a restart's gap) without writing. */
  open(agentId: string): void {
    this.guard(agentId, 'not opened', (f) => f);
  }

  /** Records, at the current end of each agent's file, that nothing was captured from `since` to `until`. */
  gap(agentIds: Iterable<string>, since: Date, until: Date): void {
    for (const agentId of agentIds)
      this.guard(agentId, 'gap not recorded', (f) => f.gap(since, until));
  }

  /** A gap from the agent's last written byte (the log's mtime, else `fallback`) to now. */
  gapSinceLastByte(agentId: string, fallback: Date): void {
    const since = sinceOf(this.dir.at(logName(agentId)), fallback);
    this.guard(agentId, 'gap not recorded', (f) => f.gap(since, new Date()));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.files.values()) f.close();
    void this.dir.close();
  }

  private guard(agentId: string, what: string, fn: (f: TranscriptFile) => unknown): void {
    if (this.closed) return;
    try {
      fn(this.file(agentId));
    } catch (e) {
      this.logger.warn(`transcript ${this.label}/${agentId} ${what}: ${String(e)}`);
    }
  }

  private file(agentId: string): TranscriptFile {
    let f = this.files.get(agentId);
    if (!f) {
      const state = readState(this.dir.at(stateName(agentId)));
      f = TranscriptFile.open(this.dir, agentId, this.maxBytes, state);
      const written = sinceOf(this.dir.at(logName(agentId)), undefined);
      if (written && f.end > 0) this.lastWritten?.(agentId, written);
      if (this.gapSince) f.gap(written ?? this.gapSince);
      this.files.set(agentId, f);
    }
    return f;
  }
}
