import { mkdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../../config/mas-config';
import type { Activity } from '../../domain/vocabulary';
import { TmuxGateway } from '../../tmux/tmux.gateway';
import type { TmuxTree } from '../../tmux/tmux.types';
import { CheckedDir } from '../../workspace/checked-dir';
import { CaptureClient } from './capture-client';
import { logName, stateName, TranscriptFile } from './transcript-file';
import { readState } from './transcript-state';

/** Bytes one agent printed, at their absolute transcript offset (§10.2), for `output` events. */
export interface CapturedOutput {
  sessionId: string;
  agentId: string;
  /** Offset of `bytes[0]` in the agent's transcript. */
  from: number;
  bytes: Buffer;
}

export interface AgentActivity {
  activity: Activity;
  lastOutputAt: string | null;
}

/** Bytes kept per pane not yet known to be an agent's (it appeared after the last listing). */
const MAX_PENDING_BYTES = 1024 * 1024;
const START_TIMEOUT_MS = 5000;

interface Capture {
  client: CaptureClient;
  startedAt: number;
  tmuxName: string;
  dir: CheckedDir;
  files: Map<string, TranscriptFile>;
  /** pane id → agent id; '' for a pane that is no agent's (shell, monitor). */
  panes: Map<string, string>;
  pending: Map<string, Buffer[]>;
  resolving?: Promise<void>;
  /** Set when capture begins after bytes may have been missed: the gap every file starts with. */
  gapSince?: Date;
}

/**
 * The transcript capture of contract §10.2 (docs/decisions/0008-transcript-capture.md): one
 * control-mode client per live workspace session, attached before its agent panes exist (create,
 * restore) or at service start, appending each agent's bytes to `<session dir>/output/<agentId>.log`.
 * It also remembers when each agent last printed, for §10.4's activity.
 */
@Injectable()
export class CaptureService implements OnModuleDestroy {
  private readonly logger = new Logger('Capture');
  private readonly captures = new Map<string, Capture>();
  private readonly lastOutput = new Map<string, number>();
  /** Told about every captured byte count (metrics: mas_output_bytes_total). */
  observer?: (bytes: number) => void;
  private readonly outputListeners = new Set<(o: CapturedOutput) => void>();

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly tmux: TmuxGateway,
  ) {}

  /** Every byte appended to a transcript, after it is written; returns the unsubscribe. */
  onOutput(fn: (o: CapturedOutput) => void): () => void {
    this.outputListeners.add(fn);
    return () => this.outputListeners.delete(fn);
  }

  /** Whether a client captures this session now (§10.4: otherwise activity is `unknown`). */
  isCapturing(sessionId: string): boolean {
    return this.captures.has(sessionId);
  }

  /**
   * §10.4 for one agent. `observable` is false for a dead or missing pane. Without a capture, or
   * before a new capture has watched for MAS_ACTIVITY_IDLE_MS, silence proves nothing: `unknown`.
   */
  activity(sessionId: string, agentId: string, observable: boolean): AgentActivity {
    const last = this.lastOutput.get(`${sessionId}/${agentId}`);
    const lastOutputAt = last === undefined ? null : new Date(last).toISOString();
    const since = this.captures.get(sessionId)?.startedAt;
    const now = Date.now();
    const idleMs = this.cfg.activityIdleMs;
    if (!observable || since === undefined) return { activity: 'unknown', lastOutputAt };
    if (last !== undefined && now - last < idleMs) return { activity: 'working', lastOutputAt };
    if (now - since < idleMs) return { activity: 'unknown', lastOutputAt };
    return { activity: 'idle', lastOutputAt };
  }

  /**
   * Attaches a capture client to the session `target` (`$N`), whose tmux name is `tmuxName`. With
   * `gapSince`, bytes may have been printed unseen since then (service down): each agent's
   * transcript records a gap before its first captured byte. False when capture could not start.
   */
  async attach(
    sessionId: string,
    target: string,
    tmuxName: string,
    sessionDir: string,
    gapSince?: Date,
  ): Promise<boolean> {
    this.detach(sessionId);
    let dir: CheckedDir;
    try {
      dir = await openOutputDir(sessionDir);
    } catch (e) {
      this.logger.warn(`no transcript for ${sessionId}: ${String(e)}`);
      return false;
    }
    let proc: ReturnType<TmuxGateway['openCapture']>;
    try {
      proc = this.tmux.openCapture(target);
    } catch (e) {
      // no pipes (EMFILE): the session works without a transcript rather than failing its create
      this.logger.warn(`no capture client for ${sessionId}: ${String(e)}`);
    }
    if (!proc) {
      await dir.close();
      return false;
    }
    const c: Capture = {
      startedAt: Date.now(),
      tmuxName,
      dir,
      files: new Map(),
      panes: new Map(),
      pending: new Map(),
      gapSince,
      client: new CaptureClient(
        proc,
        (pane, bytes) => this.paneOutput(sessionId, c, pane, bytes),
        () => this.ended(sessionId, c),
        START_TIMEOUT_MS,
      ),
    };
    if (c.client.name) this.tmux.captureNames.add(c.client.name);
    this.captures.set(sessionId, c);
    const ok = await c.client.ready;
    if (!ok) this.logger.warn(`capture client for ${sessionId} did not attach`);
    return ok;
  }

  /** Tells the capture which pane is which agent (from a listing the caller already has). */
  learn(sessionId: string, tree: TmuxTree): void {
    const c = this.captures.get(sessionId);
    if (c) this.learnPanes(c, tree);
  }

  detach(sessionId: string): void {
    this.captures.get(sessionId)?.client.close();
  }

  onModuleDestroy(): void {
    for (const c of this.captures.values()) c.client.close();
  }

  private paneOutput(sessionId: string, c: Capture, pane: string, bytes: Buffer): void {
    const agentId = c.panes.get(pane);
    if (agentId === '') return;
    if (agentId === undefined) {
      const q = c.pending.get(pane) ?? [];
      if (q.reduce((n, b) => n + b.length, 0) < MAX_PENDING_BYTES) q.push(bytes);
      c.pending.set(pane, q);
      void this.resolvePanes(c);
      return;
    }
    this.write(sessionId, c, agentId, bytes);
  }

  private write(sessionId: string, c: Capture, agentId: string, bytes: Buffer): void {
    try {
      const f = this.file(c, agentId);
      const from = f.end;
      f.append(bytes);
      this.lastOutput.set(`${sessionId}/${agentId}`, Date.now());
      this.observer?.(bytes.length);
      for (const fn of this.outputListeners) fn({ sessionId, agentId, from, bytes });
    } catch (e) {
      this.logger.warn(`transcript ${sessionId}/${agentId} not written: ${String(e)}`);
    }
  }

  private openOrWarn(sessionId: string | undefined, c: Capture, agentId: string): void {
    try {
      this.file(c, agentId);
    } catch (e) {
      this.logger.warn(`transcript ${sessionId}/${agentId} not opened: ${String(e)}`);
    }
  }

  private file(c: Capture, agentId: string): TranscriptFile {
    let f = c.files.get(agentId);
    if (!f) {
      const state = readState(c.dir.at(stateName(agentId)));
      f = TranscriptFile.open(c.dir, agentId, this.cfg.outputMaxBytes, state);
      if (c.gapSince) f.gap(sinceOf(c.dir.at(logName(agentId)), c.gapSince));
      c.files.set(agentId, f);
    }
    return f;
  }

  /** One listing at a time learns new panes; output of panes it did not name waits for the next. */
  private resolvePanes(c: Capture): Promise<void> {
    return (c.resolving ??= (async () => {
      try {
        this.learnPanes(c, await this.tmux.listSession(c.tmuxName));
      } catch (e) {
        this.logger.warn(`capture could not list ${c.tmuxName}: ${String(e)}`);
      } finally {
        c.resolving = undefined;
      }
    })());
  }

  private learnPanes(c: Capture, tree: TmuxTree): void {
    for (const s of tree.sessions)
      if (s.name === c.tmuxName)
        for (const w of s.windows) for (const p of w.panes) c.panes.set(p.id, p.agentId);
    const sessionId = [...this.captures].find(([, v]) => v === c)?.[0];
    // after a restart the gap is recorded at once, not only when the agent next prints
    if (c.gapSince)
      for (const agentId of new Set(c.panes.values()))
        if (agentId) this.openOrWarn(sessionId, c, agentId);
    for (const [pane, chunks] of c.pending) {
      const agentId = c.panes.get(pane);
      if (agentId === undefined) continue;
      c.pending.delete(pane);
      if (agentId && sessionId) for (const b of chunks) this.write(sessionId, c, agentId, b);
    }
  }

  private ended(sessionId: string, c: Capture): void {
    if (this.captures.get(sessionId) === c) this.captures.delete(sessionId);
    for (const f of c.files.values()) f.close();
    void c.dir.close();
    const name = c.client.name;
    // tmux may list the client a moment after it left (A15): keep subtracting it for a second
    if (name) setTimeout(() => this.tmux.captureNames.delete(name), 1000).unref();
  }
}

/** The checked session directory's `output` (0700), created if missing, opened as its own checked directory (A10). */
async function openOutputDir(sessionDir: string): Promise<CheckedDir> {
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
function sinceOf(log: string, fallback: Date): Date {
  try {
    return statSync(log).mtime;
  } catch {
    return fallback;
  }
}
