import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../../config/mas-config';
import type { Activity } from '../../domain/vocabulary';
import { TmuxGateway } from '../../tmux/tmux.gateway';
import type { TmuxTree } from '../../tmux/tmux.types';
import type { CheckedDir } from '../../workspace/checked-dir';
import { CaptureAttacher } from './capture-attacher';
import { openOutputDir } from './capture-dir';
import { CaptureLock } from './capture-lock';
import { findPipeBinaries } from './capture-pipe';
import { CaptureReconciler, type LiveSession, RECONCILE_RETRY_MS } from './capture-reconcile';
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
  private readonly reconciler = new CaptureReconciler(
    (id) => this.captures.has(id),
    (s) => this.adopt(s),
  );
  /** Told about every captured byte count (metrics: mas_output_bytes_total). */
  observer?: (bytes: number) => void;
  /** Names this instance in `capture.lock` files: another instance, even in this process, keeps off. */
  private readonly owner = randomBytes(6).toString('hex');
  private readonly outputListeners = new Set<(o: CapturedOutput) => void>();
  /** `tee` and `mkfifo`, resolved once: without them bytes come from `%output` as before. */
  private readonly pipeBins = findPipeBinaries();
  /** When each captured session's pipes were last checked (a snapshot checks at most every 5 s). */
  private readonly pipesChecked = new Map<string, number>();
  /** Shut down: a create, restore or adoption still under way must not open files (or FIFOs) now. */
  private destroyed = false;

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
   * now (it is then retried while the session lives), or when another process captures the session
   * (its `output/capture.lock`, A14-5: then {@link reconcile} tries again later).
   */
  async attach(
    sessionId: string,
    target: string,
    tmuxName: string,
    sessionDir: string,
    gapSince?: Date,
    unlessCaptured = false,
  ): Promise<boolean> {
    if (!unlessCaptured) this.detach(sessionId);
    let dir: CheckedDir;
    try {
      dir = await openOutputDir(sessionDir);
    } catch (e) {
      this.logger.warn(`no transcript for ${sessionId}: ${String(e)}`);
      return false;
    }
    if (this.destroyed) {
      void dir.close();
      return false;
    }
    // a reconciliation never replaces a capture a create or restore began meanwhile
    if (unlessCaptured && this.captures.has(sessionId)) {
      void dir.close();
      return true;
    }
    const lock = this.lock(sessionId, dir);
    if (!lock) return false;
    this.detach(sessionId); // one begun meanwhile by another create or restore: the newest wins
    const c = new SessionCapture({ sessionId, target, tmuxName, gapSince }, dir, lock, {
      maxBytes: this.cfg.outputMaxBytes,
      logger: this.logger,
      sink: (agentId, from, bytes) => this.emit(sessionId, agentId, from, bytes),
      lastWritten: (agentId, at) => {
        const key = `${sessionId}/${agentId}`;
        if (at.getTime() > (this.lastOutput.get(key) ?? 0)) this.lastOutput.set(key, at.getTime());
      },
      list: (name) => this.tmux.listSession(name),
      pipeBins: this.pipeBins,
    });
    this.captures.set(sessionId, c);
    return this.attacher.connect(c);
  }

  /**
   * Makes and opens the FIFOs of a create's or restore's agents (after {@link attach}, before their
   * panes exist) and answers each agent's `pipe-pane` command for the creating invocation (§10.2).
   * Empty without a capture (another process holds the lock) or without pipes.
   */
  async pipeCommands(sessionId: string, agentIds: string[]): Promise<Map<string, string>> {
    const pipes = this.captures.get(sessionId)?.pipes;
    if (!pipes) return new Map();
    try {
      return await pipes.prepare(agentIds);
    } catch (e) {
      this.logger.warn(`transcript ${sessionId}: no pipes (${String(e)})`);
      return new Map();
    }
  }

  /**
   * Tells the capture which pane is which agent, from a listing the caller already has and in which
   * every agent pane is tagged (its create, restore or snapshot): untagged panes are no agent's.
   */
  learn(sessionId: string, tree: TmuxTree): void {
    this.captures.get(sessionId)?.learn(tree, undefined, true);
  }

  /**
   * Every live workspace session of a snapshot (§5.1-attributed, none being created, restored or
   * written now) without a capture gets one, with a gap since its last captured byte: sessions made
   * live outside the service (A14-7) and those another process captured (A14-5). Bounded per session.
   */
  reconcile(live: LiveSession[]): void {
    const now = Date.now();
    for (const s of live) {
      if (!this.captures.has(s.id)) continue;
      if (now - (this.pipesChecked.get(s.id) ?? 0) < RECONCILE_RETRY_MS) continue;
      this.pipesChecked.set(s.id, now);
      void this.repipe(s.id, { sessions: [s.tmux] }, true);
    }
    this.reconciler.offer(live);
  }

  /**
   * Pipes the live agent panes of `tree` (§10.2), only once this process holds the session's lock.
   * At start-up and for sessions made live outside the service (`lost` false) every pane's pipe is
   * replaced: an old `tee` may have died of SIGPIPE unnoticed by tmux; the files record the gap when
   * opened (`gapSince`). A pipe lost while we capture (`lost`: a `tee` killed, and tmux noticed)
   * is restarted with a gap from the agent's last byte.
   */
  private async repipe(sessionId: string, tree: TmuxTree, lost = false): Promise<void> {
    const c = this.captures.get(sessionId);
    if (!c?.pipes) return;
    const panes = c.livePanes(tree, lost);
    const cmds = await this.pipeCommands(sessionId, [...panes.values()]);
    const pipes = new Map<string, string>();
    for (const [pane, agentId] of panes) {
      const cmd = cmds.get(agentId);
      if (cmd) pipes.set(pane, cmd);
    }
    if (!pipes.size || this.captures.get(sessionId) !== c) return;
    if (lost) c.gapSinceLastByte(new Set(panes.values()));
    await this.tmux
      .pipePanes(pipes, !lost)
      .catch((e) => this.logger.warn(`transcript ${sessionId}: panes not piped (${String(e)})`));
  }

  /** Agent panes a snapshot shows dead, for their transcripts' gaps (A14-2, capture-session.ts). */
  panesDied(sessionId: string, panes: Array<{ agentId: string; paneId: string }>): void {
    const c = this.captures.get(sessionId);
    for (const p of panes) c?.paneDied(p.agentId, p.paneId);
  }

  /** Settles when every capture {@link reconcile} began so far has attached or given up. */
  reconciled(): Promise<void> {
    return this.reconciler.settled();
  }

  /** Sessions a reconciliation could not capture yet (their lock held elsewhere): worth another snapshot. */
  get refused(): number {
    return this.reconciler.refused;
  }

  /** Ends the session's capture, a client attached or one waiting to re-attach alike. */
  detach(sessionId: string): void {
    const c = this.captures.get(sessionId);
    if (!c) return;
    this.captures.delete(sessionId);
    this.pipesChecked.delete(sessionId);
    c.stop();
  }

  private async adopt(s: LiveSession): Promise<boolean> {
    if (this.captures.has(s.id)) return true;
    const ok = await this.attach(s.id, s.tmux.id, s.tmuxName, s.sessionDir, s.startedAt, true);
    this.learn(s.id, { sessions: [s.tmux] });
    if (this.captures.has(s.id)) await this.repipe(s.id, { sessions: [s.tmux] });
    return ok;
  }

  private lock(sessionId: string, dir: CheckedDir): CaptureLock | undefined {
    try {
      const lock = CaptureLock.take(dir, this.owner);
      if (lock) return lock;
      this.logger.log(`transcript of ${sessionId}: another process captures it`);
    } catch (e) {
      this.logger.warn(`no transcript for ${sessionId}: lock not taken (${String(e)})`);
    }
    void dir.close();
    return undefined;
  }

  onModuleDestroy(): void {
    this.destroyed = true;
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
