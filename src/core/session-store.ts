import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { NotFoundError } from '../errors/mas-error';
import { TmuxGateway } from '../tmux/tmux.gateway';
import type { TmuxTree } from '../tmux/tmux.types';
import { WorkspaceReader } from '../workspace/workspace.reader';
import type { SessionInfo } from './dto/session.dto';
import { SessionCache } from './session-cache';
import { type ActivityOf, toSessionInfo } from './session.mapper';
import { CaptureService } from './transcript/capture.service';
import { resolveRef, type SessionRef } from './session-ref';
import { SessionState } from './session-state';
import { joinSnapshot, joinSnapshotYielding, type KnownSession, type Snapshot } from './snapshot';

/** §5.4 reasons of a pane whose process has ended: nothing more can be observed in it (§10.4). */
const DEAD = new Set(['exited', 'exit_unknown', 'exit_status', 'killed']);

/** How old a snapshot may be to name a live session for a write that re-reads it (findLiveForWrite). */
const WRITE_LOOKUP_MAX_AGE_MS = 30_000;

/**
 * The read model every feature shares: snapshots of tmux joined with the workspace (cache-aside,
 * one generation), fresh per-session views for writes, reference resolution, and the in-memory
 * state (restores, hidden creates, startup jobs, per-session locks).
 */
@Injectable()
export class SessionStore {
  private readonly logger = new Logger('Sessions');
  private readonly processNames: Set<string>;
  private readonly infoMemo = new WeakMap<Snapshot, SessionInfo[]>();

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly tmux: TmuxGateway,
    private readonly reader: WorkspaceReader,
    private readonly cache: SessionCache,
    readonly state: SessionState,
    private readonly capture: CaptureService,
  ) {
    const argv0 = cfg.agentCommand[0] ?? '';
    this.processNames = new Set([path.basename(argv0), ...cfg.agentProcessNames].filter(Boolean));
  }

  /** One consistent view (R1); `fresh` bypasses the cache, as writes answer from a new listing. */
  async snapshot(fresh = false): Promise<Snapshot> {
    const fetch = async () => {
      const t0 = performance.now();
      const [tree, cat] = await Promise.all([this.tmux.listTree(), this.reader.catalogue()]);
      const t1 = performance.now();
      const snap = await joinSnapshotYielding(tree, cat, {
        workspace: this.cfg.workspaceRoot,
        processNames: this.processNames,
        hidden: this.state.hidden,
      });
      const t2 = performance.now();
      this.offerCapture(snap);
      await setImmediate();
      this.infos(snap); // derived in its own turn, so the first list after a refresh does not pay for it
      this.logger.debug(
        `snapshot of ${snap.sessions.length} sessions: tmux and files ${(t1 - t0).toFixed(1)}ms, join ${(t2 - t1).toFixed(1)}ms, list view ${(performance.now() - t2).toFixed(1)}ms (wall, in slices)`,
      );
      return snap;
    };
    return fresh ? fetch() : this.cache.get(fetch);
  }

  /**
   * A fresh view of one known session from a session-scoped listing (`listed`, when the caller just
   * got one from tmux) and its own files, for writes under the session lock; legacy sessions need
   * the project file, so they take a full snapshot.
   */
  async fresh(
    k: Pick<KnownSession, 'id' | 'source' | 'tmuxName'>,
    listed?: TmuxTree,
  ): Promise<KnownSession | undefined> {
    if (k.source === 'legacy')
      return (await this.snapshot(true)).sessions.find((s) => s.id === k.id);
    const [tree, rec] = await Promise.all([
      listed ?? this.tmux.listSession(k.tmuxName, true),
      this.reader.readRecord(k.id),
    ]);
    const cat = {
      records: rec ? [rec] : [],
      indexCreatedAt: new Map<string, string>(),
      indexUnreadable: false,
    };
    const snap = joinSnapshot(tree, cat, {
      workspace: this.cfg.workspaceRoot,
      processNames: this.processNames,
      hidden: new Set(),
    });
    return snap.sessions.find((s) => s.id === k.id);
  }

  /** Like {@link fresh}, for a session that must still be known. */
  async freshOrThrow(k: Pick<KnownSession, 'id' | 'source' | 'tmuxName'>): Promise<KnownSession> {
    const now = await this.fresh(k);
    if (!now)
      throw new NotFoundError('SESSION_NOT_FOUND', 'Session not found', { sessionId: k.id });
    return now;
  }

  /**
   * §10.2: a live workspace session without a capture gets one (made live outside the service, or
   * captured by another process until now), unless it is being restored or written right now (a
   * create is hidden from the snapshot). The snapshot's §5.1 attribution is the ownership check.
   */
  private offerCapture(snap: Snapshot): void {
    const live = snap.sessions.filter(
      (k) =>
        k.source === 'workspace' &&
        k.tmux &&
        !this.state.restoring.has(k.id) &&
        !this.state.isLocked(k.id),
    );
    for (const k of live)
      this.capture.panesDied(
        k.id,
        k.agents.flatMap((a) =>
          a.paneId && DEAD.has(a.reason) ? [{ agentId: a.agentId, paneId: a.paneId }] : [],
        ),
      );
    this.capture.reconcile(
      live.map((k) => ({
        id: k.id,
        tmuxName: k.tmuxName,
        sessionDir: k.workingDir,
        startedAt: new Date(k.startedAt),
        tmux: k.tmux!,
      })),
    );
  }

  /** §10.4 for the agents of `k`: a dead or missing pane is not observed. */
  activityOf(k: KnownSession): ActivityOf {
    return (a) =>
      this.capture.activity(k.id, a.agentId, Boolean(k.tmux && a.paneId) && !DEAD.has(a.reason));
  }

  /** Names under `<ws>/sessions/` (no file reads): what a new id's short id must avoid. */
  async sessionDirNames(): Promise<string[]> {
    return readdir(this.reader.sessionsDir).catch(() => []);
  }

  sessionDir(id: string): string {
    return this.reader.sessionDir(id);
  }

  invalidate(): void {
    this.cache.invalidate();
  }

  /**
   * The newest snapshot of the current cache generation no older than `maxAgeMs` (default: however
   * old), without any tmux call; none after a write until the next read.
   */
  peekSnapshot(maxAgeMs = Number.POSITIVE_INFINITY): Snapshot | undefined {
    return this.cache.peek(maxAgeMs);
  }

  /** Snapshot lookups answered from the cache (`hit`) or by a listing (`miss`), since start. */
  get cacheLookups(): Readonly<{ hit: number; miss: number }> {
    return this.cache.lookups;
  }

  /** Resolves a reference the boundary validated (R8: before any tmux call) in a snapshot. */
  async find(ref: SessionRef, fresh = false): Promise<KnownSession> {
    return resolveRef(await this.snapshot(fresh), ref);
  }

  /** {@link find} with the snapshot it resolved in, for a caller that checks more of it (restore). */
  async findWithSnapshot(ref: SessionRef): Promise<{ k: KnownSession; snap: Snapshot }> {
    const snap = await this.snapshot(true);
    return { k: resolveRef(snap, ref), snap };
  }

  /**
   * {@link find} for a write that re-reads the session under its lock: a live session found in a
   * snapshot up to 30 s old is trusted to name it, without a refresh competing with the write.
   * Anything else (not found, not live, ambiguous) is decided on the normal path.
   */
  async findLiveForWrite(ref: SessionRef): Promise<KnownSession> {
    const old = this.cache.peek(WRITE_LOOKUP_MAX_AGE_MS);
    if (old) {
      try {
        const k = resolveRef(old, ref);
        if (k.tmux) return k;
      } catch {
        /* decided below, on a current snapshot */
      }
    }
    return resolveRef(await this.snapshot(), ref);
  }

  /**
   * SessionInfo of every session, in list order, derived once per snapshot: the profile of a warm
   * list at N=200 showed this mapping as the top cost when it ran per request (docs/PERFORMANCE.md).
   * Safe because everything it reads is either in the snapshot or invalidates it (restores do).
   */
  infos(snap: Snapshot): SessionInfo[] {
    let out = this.infoMemo.get(snap);
    if (!out) {
      out = snap.sessions
        .map((k) => toSessionInfo(k, this.state))
        .sort((a, b) =>
          a.startedAt === b.startedAt
            ? a.sessionId < b.sessionId
              ? -1
              : 1
            : a.startedAt < b.startedAt
              ? 1
              : -1,
        );
      this.infoMemo.set(snap, out);
    }
    return out;
  }
}
