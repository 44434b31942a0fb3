import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { layoutProblems } from '../core/layout-check';
import { rollbackTmux } from '../core/rollback';
import { attachCommand, publicAgent, statusOf } from '../core/session.mapper';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import { CaptureService } from '../core/transcript/capture.service';
import { isRealPath, unsafeSlots } from '../core/slot-dirs';
import type { KnownSession } from '../core/snapshot';
import { planLayout, resolveAgentCommand } from '../domain/session-layout';
import {
  ConflictError,
  MasError,
  NotRestorableError,
  TmuxDuplicateError,
  TmuxError,
} from '../errors/mas-error';
import { TmuxGateway } from '../tmux/tmux.gateway';
import { WorkspaceWriter } from '../workspace/workspace.writer';
import type { RestoreResponse } from './dto/lifecycle.dto';
import type { RestoreRequest } from './dto/session-requests';
import { StopService } from './stop.service';

/** Restore (contract §4.8): recreate a terminated session from its files, by its own tmux id. */
@Injectable()
export class RestoreService {
  private readonly logger = new Logger('Lifecycle');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
    private readonly tmux: TmuxGateway,
    private readonly writer: WorkspaceWriter,
    private readonly stopper: StopService,
    private readonly capture: CaptureService,
  ) {}

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

  private async restoreLocked(
    k: KnownSession,
    force: boolean,
    agentPath: string | undefined,
  ): Promise<RestoreResponse> {
    const t0 = Date.now();
    // A2: a forced restore cancels the startup job first, as stop does; restore types no prompts
    this.sessions.state.startups.get(k.id)?.cancel();
    const live = force && k.tmux ? await this.sessions.fresh(k) : undefined; // re-read under the lock
    if (live?.tmux) await this.stopper.stopLocked(live, true);
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
      // §10.2: capture resumes at the same offset, attached before any agent pane exists
      const listed = await this.tmux.createSession(plan, created, async (target) => {
        if (k.source !== 'workspace') return;
        await this.capture.attach(k.id, target, plan.name, k.workingDir);
        return this.capture.pipeCommands(k.id, k.roster);
      });
      this.capture.learn(k.id, listed);
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
        agents: after.agents.map((a) => publicAgent(a, this.sessions.activityOf(after))),
        workingDir: k.workingDir,
        startedAt: k.startedAt,
        restoredAt: new Date().toISOString(),
        timestamp: new Date().toISOString(),
        ...(warnings.length ? { warnings } : {}),
      };
    } catch (e) {
      const duplicate = e instanceof TmuxDuplicateError && !created.id;
      // first: its FIFOs and files hold descriptors the rollback's own tmux call may need (A14d-3)
      if (!duplicate) this.capture.detach(k.id);
      const complete =
        duplicate || (await rollbackTmux(this.tmux, k.id, created.id, this.logger, e));
      await this.writer.setIndexStatus(k.id, previous ?? 'stopped').catch(() => undefined);
      if (duplicate) throw nameTaken(k); // a race with the check above: the same 409 (A1)
      if (e instanceof MasError && e.code === 'TMUX_TIMEOUT')
        throw TmuxError.timeout('restore', complete ? 'rolled_back' : 'unknown');
      throw e;
    }
  }
}

function nameTaken(k: KnownSession): ConflictError {
  return new ConflictError(
    'SESSION_NAME_TAKEN',
    'The tmux session name is held by a session that is not this one',
    { sessionId: k.id, tmuxSession: k.tmuxName },
  );
}
