import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../../config/mas-config';
import type { Activity } from '../../domain/vocabulary';
import { TmuxGateway } from '../../tmux/tmux.gateway';
import type { TmuxTree } from '../../tmux/tmux.types';
import type { CheckedDir } from '../../workspace/checked-dir';
import { CaptureAttacher } from './capture-attacher';
import { openOutputDir } from './capture-dir';
import { SessionCapture } from './capture-session';

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

/**
 * The transcript capture of contract §10.2 (docs/decisions/0008-transcript-capture.md): one
 * control-mode client per live workspace session, attached before its agent panes exist (create,
 * restore) or at service start, appending each agent's bytes to `<session dir>/output/<agentId>.log`,
 * and attached again if it ends while its session lives (capture-attacher.ts).
 * It also remembers when each agent last printed, for §10.4's activity.
 */
@Injectable()
export class CaptureService implements OnModuleDestroy {
  private readonly logger = new Logger('Capture');
  private readonly captures = new Map<string, SessionCapture>();
  private readonly lastOutput = new Map<string, number>();
  private readonly attacher: CaptureAttacher;
  /** Told about every captured byte count (metrics: mas_output_bytes_total). */
  observer?: (bytes: number) => void;
  private readonly outputListeners = new Set<(o: CapturedOutput) => void>();

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly tmux: TmuxGateway,
  ) {
    this.attacher = new CaptureAttacher(tmux, cfg.workspaceRoot, this.logger, (c) =>
      this.forget(c),
    );
  }

  /** Every byte appended to a transcript, after it is written; returns the unsubscribe. */
  onOutput(fn: (o: CapturedOutput) => void): () => void {
    this.outputListeners.add(fn);
    return () => this.outputListeners.delete(fn);
  }

  /** Whether a client captures this session now (§10.4: otherwise activity is `unknown`). */
  isCapturing(sessionId: string): boolean {
    return this.captures.get(sessionId)?.client !== undefined;
  }

  /**
   * §10.4 for one agent. `observable` is false for a dead or missing pane. Without a capture client
   * (none, or one lost and not yet replaced), or before a new client has watched for
   * MAS_ACTIVITY_IDLE_MS, silence proves nothing: `unknown`.
   */
  activity(sessionId: string, agentId: string, observable: boolean): AgentActivity {
    const last = this.lastOutput.get(`${sessionId}/${agentId}`);
    const lastOutputAt = last === undefined ? null : new Date(last).toISOString();
    const c = this.captures.get(sessionId);
    const since = c?.client ? c.startedAt : undefined;
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
   * transcript records a gap before its first captured byte. False when capture could not start
   * now (it is then retried while the session lives).
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
    const c = new SessionCapture({ sessionId, target, tmuxName, gapSince }, dir, {
      maxBytes: this.cfg.outputMaxBytes,
      logger: this.logger,
      sink: (agentId, from, bytes) => this.emit(sessionId, agentId, from, bytes),
      list: (name) => this.tmux.listSession(name),
    });
    this.captures.set(sessionId, c);
    return this.attacher.connect(c);
  }

  /** Tells the capture which pane is which agent (from a listing the caller already has). */
  learn(sessionId: string, tree: TmuxTree): void {
    this.captures.get(sessionId)?.learn(tree);
  }

  /** Ends the session's capture, a client attached or one waiting to re-attach alike. */
  detach(sessionId: string): void {
    const c = this.captures.get(sessionId);
    if (!c) return;
    this.captures.delete(sessionId);
    c.stop();
  }

  onModuleDestroy(): void {
    for (const id of [...this.captures.keys()]) this.detach(id);
  }

  private forget(c: SessionCapture): void {
    if (this.captures.get(c.to.sessionId) === c) this.captures.delete(c.to.sessionId);
    c.stop();
  }

  private emit(sessionId: string, agentId: string, from: number, bytes: Buffer): void {
    this.lastOutput.set(`${sessionId}/${agentId}`, Date.now());
    this.observer?.(bytes.length);
    for (const fn of this.outputListeners) fn({ sessionId, agentId, from, bytes });
  }
}
