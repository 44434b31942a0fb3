import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import {
  ConflictError,
  MasError,
  NotRestorableError,
  TmuxDuplicateError,
  TmuxError,
} from '../errors/mas-error';
import { layoutProblems } from '../core/layout-check';
import { rollbackTmux } from '../core/rollback';
import { isRealPath, unsafeSlots } from '../core/slot-dirs';
import { planLayout, resolveAgentCommand } from '../domain/session-layout';
import { TmuxGateway } from '../tmux/tmux.gateway';
import { WorkspaceWriter } from '../workspace/workspace.writer';
import { attachCommand, publicAgent, statusOf } from '../core/session.mapper';
import type { RestoreRequest, StopRequest } from './dto/session-requests';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import type { TmuxSession } from '../tmux/tmux.types';
import type { KnownSession } from '../core/snapshot';
import type { RestoreResponse, StopResponse } from './dto/lifecycle.dto';

/** Stop and restore (contract §4.7, §4.8, §7.7). */
@Injectable()
export class LifecycleService {
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

  /** Steps 2–5 of §4.7; the caller holds the lock and `k` was read under it. */
  private async stopLocked(k: KnownSession, force: boolean) {
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

  async restore(ref: SessionRef, { startAgents, force }: RestoreRequest): Promise<RestoreResponse> {
    const state = this.sessions.state;
    const deadline = Date.now() + 20_000; // §4.8: one overall deadline, lock waits included
    const { k, snap } = await this.sessions.findWithSnapshot(ref);
    if (state.restoring.has(k.id))
      throw new ConflictError('RESTORE_IN_PROGRESS', 'Session is being restored', {
        sessionId: k.id,
      });
    if (k.source !== 'workspace' || !k.record || !(await isRealPath(k.workingDir)))
      throw new NotRestorableError('no_session_dir');
    if (!k.record.session)
      throw new NotRestorableError(k.record.sessionProblem ?? 'metadata_unreadable');
    const agentPath = startAgents ? resolveAgentCommand(this.cfg) : undefined;
    if (k.tmux && !force)
      throw new ConflictError('SESSION_EXISTS', 'Session is running', {
        sessionId: k.id,
        status: statusOf(k, state),
      });
    // A1: the name held by a session that is not this one (another workspace, a person): touch nothing
    if (!k.tmux && snap.tmuxNames.has(k.tmuxName)) throw nameTaken(k);
    state.restoring.add(k.id); // same tick as the checks: two restores cannot both pass
    this.sessions.invalidate();
    try {
      return await state.withLock(
        k.id,
        () => this.restoreLocked(k, force, agentPath),
        Math.max(0, deadline - Date.now()),
      );
    } finally {
      state.restoring.delete(k.id);
      this.sessions.invalidate();
    }
  }

  private async restoreLocked(k: KnownSession, force: boolean, agentPath: string | undefined) {
    const t0 = Date.now();
    // A2: a forced restore cancels the startup job first, as stop does; restore types no prompts
    this.sessions.state.startups.get(k.id)?.cancel();
    const live = force && k.tmux ? await this.sessions.fresh(k) : undefined; // re-read under the lock
    if (live?.tmux) await this.stopLocked(live, true);
    await this.writer.checkWritable();
    const unsafe = await unsafeSlots(k.workingDir, k.roster);
    const previous = await this.writer.setIndexStatus(k.id, 'restoring');
    const plan = planLayout(this.cfg, {
      id: k.id,
      sessionDir: k.workingDir,
      roster: k.roster,
      unsafe,
      agentArgv: agentPath
        ? [agentPath, ...this.cfg.agentCommand.slice(1), ...this.cfg.agentResumeArgs]
        : undefined,
      tags: {
        '@mas_session_id': k.id,
        '@mas_workspace': this.cfg.workspaceRoot,
        '@mas_created_by': 'mas-api',
      },
    });
    const created: { id?: string } = {};
    try {
      await this.tmux.createSession(plan, created);
      if (agentPath) await sleep(this.cfg.agentLaunchCheckMs);
      const after = await this.sessions.fresh(k);
      if (!after?.tmux)
        throw new TmuxError('TMUX_ERROR', 'Restored session vanished', {
          reason: 'session_vanished',
        });
      const problems = layoutProblems(plan, after);
      if (problems.length)
        throw new TmuxError(
          'TMUX_ERROR',
          'tmux did not build the creation layout (a hook in the tmux configuration?)',
          { reason: 'layout_incomplete', problems },
        );
      // agents in unsafe slots were never launched (A3): they neither fail nor carry the restore
      const launched = agentPath ? after.agents.filter((a) => !unsafe.has(a.agentId)) : [];
      if (launched.length && launched.every((a) => a.status !== 'running')) {
        throw new TmuxError('AGENT_START_FAILED', 'Every agent exited at once', {
          agents: launched.map((a) => ({ agentId: a.agentId, exitStatus: a.exitStatus })),
        });
      }
      const warnings = await this.writer.writeStatus(k.id, 'active', 'restoredAt');
      this.logger.log(
        `restored ${k.tmuxName} agents=${Boolean(agentPath)} in ${Date.now() - t0}ms`,
      );
      return {
        sessionId: k.id,
        tmuxSession: k.tmuxName,
        attachCommand: attachCommand(k.tmuxName, this.cfg),
        status: 'restored' as const,
        agentsStarted: launched.some((a) => a.status === 'running'),
        agents: after.agents.map(publicAgent),
        workingDir: k.workingDir,
        startedAt: k.startedAt,
        restoredAt: new Date().toISOString(),
        timestamp: new Date().toISOString(),
        ...(warnings.length ? { warnings } : {}),
      };
    } catch (e) {
      const duplicate = e instanceof TmuxDuplicateError && !created.id;
      const complete = duplicate || (await rollbackTmux(this.tmux, k.id, created.id, this.logger));
      await this.writer.setIndexStatus(k.id, previous ?? 'stopped').catch(() => undefined);
      if (duplicate) throw nameTaken(k); // a race with the check above: the same 409 (A1)
      if (e instanceof MasError && e.code === 'TMUX_TIMEOUT')
        throw TmuxError.timeout('restore', complete ? 'rolled_back' : 'unknown');
      throw e;
    }
  }
}

/** Same server (a restarted one reuses `$N`), same id, same creation time. */
function sameTmuxSession(a: TmuxSession, b: TmuxSession): boolean {
  return a.id === b.id && a.serverPid === b.serverPid && a.created === b.created;
}

function nameTaken(k: KnownSession): ConflictError {
  return new ConflictError(
    'SESSION_NAME_TAKEN',
    'The tmux session name is held by a session that is not this one',
    { sessionId: k.id, tmuxSession: k.tmuxName },
  );
}
