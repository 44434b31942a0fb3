import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { statusOf } from '../core/session.mapper';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import type { KnownSession } from '../core/snapshot';
import { ConflictError } from '../errors/mas-error';
import { TmuxGateway } from '../tmux/tmux.gateway';
import type { TmuxSession } from '../tmux/tmux.types';
import { WorkspaceWriter } from '../workspace/workspace.writer';
import type { StopResponse } from './dto/lifecycle.dto';
import type { StopRequest } from './dto/session-requests';

/** Stop (contract §4.7, §7.7): stop keys, a grace period, then kill-session by id. */
@Injectable()
export class StopService {
  private readonly logger = new Logger('Lifecycle');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
    private readonly tmux: TmuxGateway,
    private readonly writer: WorkspaceWriter,
  ) {}

  async stop(ref: SessionRef, { force }: StopRequest): Promise<StopResponse> {
    const first = await this.sessions.find(ref);
    if (this.sessions.state.restoring.has(first.id))
      throw new ConflictError('RESTORE_IN_PROGRESS', 'Session is being restored', {
        sessionId: first.id,
      });
    return this.sessions.state.withLock(first.id, async () => {
      this.sessions.state.startups.get(first.id)?.cancel();
      const k = await this.sessions.freshOrThrow(first);
      const previousStatus = statusOf(k, this.sessions.state);
      const result = await this.stopLocked(k, force);
      this.sessions.invalidate();
      return {
        sessionId: k.id,
        tmuxSession: k.tmuxName,
        status: 'stopped' as const,
        previousStatus,
        ...result,
        timestamp: new Date().toISOString(),
      };
    });
  }

  /** Steps 2–5 of §4.7; the caller holds the lock and `k` was read under it (restore too). */
  async stopLocked(k: KnownSession, force: boolean) {
    const t0 = Date.now();
    if (!k.tmux) {
      const warnings =
        k.source === 'workspace' && k.record?.session?.STATUS === 'active'
          ? await this.writer.writeStatus(k.id, 'stopped', 'stoppedAt')
          : [];
      return { alreadyStopped: true, graceful: true, ...(warnings.length ? { warnings } : {}) };
    }
    const { graceful, last } = force
      ? { graceful: k.agents.every((a) => a.status !== 'running'), last: k }
      : await this.gracefulPhase(k);
    // Killed by id only while it is still this very session: a session gone meanwhile (server
    // restarted, ids reused by someone else's sessions) is not looked for by its old id.
    if (last) await this.tmux.killSession(k.tmux.id);
    const warnings =
      k.source === 'workspace' ? await this.writer.writeStatus(k.id, 'stopped', 'stoppedAt') : [];
    this.logger.log(`stopped ${k.tmuxName} graceful=${graceful} in ${Date.now() - t0}ms`);
    return { alreadyStopped: false, graceful, ...(warnings.length ? { warnings } : {}) };
  }

  /**
   * Stop keys to each running agent, then a snapshot every 250 ms until none runs or the grace ends
   * (§7.7). Every round targets the panes of a fresh view of the same tmux session (same server,
   * id and creation time), never ids read seconds ago: after a server restart those are reused and
   * name another's panes. `last` is the newest view, undefined once the session is gone.
   */
  private async gracefulPhase(
    k: KnownSession,
  ): Promise<{ graceful: boolean; last?: KnownSession }> {
    let now: KnownSession | undefined = k;
    for (const [i, key] of this.cfg.agentStopKeys.entries()) {
      if (i > 0) {
        await sleep(500);
        now = await this.current(k);
      }
      const running = now?.agents.filter((a) => a.status === 'running' && a.paneId) ?? [];
      if (!running.length) break;
      await Promise.all(
        running.map((a) => this.tmux.sendKey(a.paneId!, key).catch(() => undefined)),
      );
    }
    const deadline = Date.now() + this.cfg.stopGraceMs;
    while (now && now.agents.some((a) => a.status === 'running') && Date.now() < deadline) {
      await sleep(250);
      now = await this.current(k);
    }
    return { graceful: !now || now.agents.every((a) => a.status !== 'running'), last: now };
  }

  /** `k` as it is now, only while it is the very same tmux session. */
  private async current(k: KnownSession): Promise<KnownSession | undefined> {
    const now = await this.sessions.fresh(k);
    return now?.tmux && k.tmux && sameTmuxSession(now.tmux, k.tmux) ? now : undefined;
  }
}

/** Same server (a restarted one reuses `$N`), same id, same creation time. */
function sameTmuxSession(a: TmuxSession, b: TmuxSession): boolean {
  return a.id === b.id && a.serverPid === b.serverPid && a.created === b.created;
}
