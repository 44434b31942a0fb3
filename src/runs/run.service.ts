import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { hashKey } from '../core/idempotency.service';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { MasError, TmuxDuplicateError, TmuxError } from '../errors/mas-error';
import { attachCommand } from '../core/session.mapper';
import { SessionStore } from '../core/session-store';
import { CaptureService } from '../core/transcript/capture.service';
import type { KnownSession } from '../core/snapshot';
import type { SessionName } from '../tmux/tmux-format';
import { TmuxGateway } from '../tmux/tmux.gateway';
import { WorkspaceWriter } from '../workspace/workspace.writer';
import type { RunsRequest } from './dto/runs-request';
import { runPlan, type RunPlan } from './run-request';
import { layoutProblems } from '../core/layout-check';
import { planLayout, resolveAgentCommand } from '../domain/session-layout';
import { unsafeSlots } from '../core/slot-dirs';
import { StartupJob } from './startup.job';
import { rollbackTmux } from '../core/rollback';
import type { RunsResponse } from './dto/run.dto';

const DRAWS = 8;

/** POST /runs: the synchronous phase of contract §4.9; prompts go to the background job. */
@Injectable()
export class RunService {
  private readonly logger = new Logger('Runs');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
    private readonly tmux: TmuxGateway,
    private readonly writer: WorkspaceWriter,
    private readonly startup: StartupJob,
    private readonly capture: CaptureService,
  ) {}

  async create(request: RunsRequest, idempotencyKey?: string): Promise<RunsResponse> {
    const t0 = Date.now();
    const req = runPlan(request);
    const keyHash = idempotencyKey ? hashKey(idempotencyKey) : undefined;
    // One list-sessions call, not a full snapshot: names and tags are all a create needs to check.
    const [live, dirs] = await Promise.all([
      this.tmux.listSessionNames(),
      this.sessions.sessionDirNames(),
    ]);
    const existing = keyHash ? await this.tagged(live, keyHash) : undefined;
    if (existing) return this.response(existing);
    await this.writer.checkWritable();
    const agentPath = resolveAgentCommand(this.cfg);
    const names = new Set(live.map((s) => s.name));
    const shorts = new Set(dirs.map((d) => d.slice(0, 8)));
    // A v4 UUID from a cryptographic source, redrawn while its short id or name is taken, or when
    // tmux reports the name taken after all (A1: a session planted meanwhile); 8 draws in all.
    for (let draw = 0; draw < DRAWS; draw++) {
      const id = randomUUID();
      const name = `mas-${id.slice(0, 8)}`;
      if (existsSync(this.sessions.sessionDir(id)) || names.has(name) || shorts.has(id.slice(0, 8)))
        continue;
      const k = await this.attempt(id, req, agentPath, keyHash);
      if (k) {
        this.logger.log(
          `created ${k.tmuxName} with ${req.roster.length} agents in ${Date.now() - t0}ms`,
        );
        return this.response(k);
      }
      names.add(name);
    }
    throw new TmuxError('TMUX_ERROR', 'Could not draw a free session id', {
      reason: 'id_exhausted',
    });
  }

  /** Steps 3–6 of §4.9 for one drawn id; undefined when tmux says the name is taken (redraw). */
  private async attempt(
    id: string,
    req: RunPlan,
    agentPath: string,
    keyHash?: string,
  ): Promise<KnownSession | undefined> {
    const state = this.sessions.state;
    const sessionDir = this.sessions.sessionDir(id);
    const created: { id?: string } = {};
    let tmuxTried = false;
    state.hidden.add(id);
    try {
      await this.writer.create({
        id,
        agents: req.roster,
        config: req.config,
        requestKeyHash: keyHash,
        createdAt: new Date(),
      });
      const plan = planLayout(this.cfg, {
        id,
        sessionDir,
        roster: req.roster,
        unsafe: await unsafeSlots(sessionDir, req.roster),
        agentArgv: [agentPath, ...this.cfg.agentCommand.slice(1)],
        tags: {
          '@mas_session_id': id,
          '@mas_workspace': this.cfg.workspaceRoot,
          '@mas_created_by': 'mas-api',
          ...(keyHash ? { '@mas_request_id': keyHash } : {}),
        },
      });
      tmuxTried = true;
      // §10.2: the transcript's capture attaches before any agent pane exists
      const listed = await this.tmux.createSession(plan, created, async (target) => {
        await this.capture.attach(id, target, plan.name, sessionDir);
        return this.capture.pipeCommands(id, req.roster);
      });
      this.capture.learn(id, listed);
      state.hidden.delete(id);
      const k = await this.sessions.fresh({ id, source: 'workspace', tmuxName: plan.name }, listed);
      const missing = req.roster.filter((a) => !k?.agents.find((x) => x.agentId === a)?.paneId);
      if (!k?.tmux || missing.length)
        throw new TmuxError('TMUX_ERROR', 'Created session does not show every agent slot', {
          reason: 'layout_incomplete',
          missing,
        });
      const problems = layoutProblems(plan, k);
      if (problems.length)
        throw new TmuxError(
          'TMUX_ERROR',
          'tmux did not build the creation layout (a hook in the tmux configuration?)',
          { reason: 'layout_incomplete', problems },
        );
      this.sessions.invalidate();
      this.startup.start(k, req.prompts);
      return k;
    } catch (e) {
      state.hidden.delete(id);
      const duplicate = e instanceof TmuxDuplicateError && !created.id;
      const complete = await this.rollback(id, tmuxTried && !duplicate, created.id, e);
      if (duplicate) return undefined;
      // A11: rolled_back only when the rollback itself completed
      if (e instanceof MasError && e.code === 'TMUX_TIMEOUT')
        throw TmuxError.timeout('create', complete ? 'rolled_back' : 'unknown');
      throw e;
    } finally {
      state.hidden.delete(id);
    }
  }

  /**
   * A live session created with this Idempotency-Key, for a retry whose first answer was a 504 (the
   * create may have run after all, T-51) or is unknown after a restart (§4.12).
   */
  async findByKey(key: string): Promise<RunsResponse | undefined> {
    const k = await this.tagged(await this.tmux.listSessionNames(), hashKey(key));
    return k && this.response(k);
  }

  /** A create answered before a restart, or whose answer was lost, is found by its tag (§4.12). */
  private async tagged(live: SessionName[], keyHash: string): Promise<KnownSession | undefined> {
    const s = live.find(
      (x) => x.tagRequestId === keyHash && /^[0-9a-f-]{36}$/.test(x.tagSessionId),
    );
    return s && this.sessions.fresh({ id: s.tagSessionId, source: 'workspace', tmuxName: s.name });
  }

  private response(k: KnownSession): RunsResponse {
    return {
      sessionId: k.id,
      shortId: k.shortId,
      tmuxSession: k.tmuxName,
      status: 'starting' as const,
      workingDir: k.workingDir,
      unitDir: k.unitDir,
      workflowsDir: k.workflowsDir,
      startedAt: k.startedAt,
      attachCommand: attachCommand(k.tmuxName, this.cfg),
      agents: k.roster,
    };
  }

  /** Nothing partial remains (R13): our own tmux session (by id, A1), index entry, directory. True when all of it went. */
  private async rollback(
    id: string,
    tmuxTried: boolean,
    createdId: string | undefined,
    cause: unknown,
  ): Promise<boolean> {
    // first: its FIFOs and files hold descriptors the rollback's own tmux call may need (A14d-3)
    this.capture.detach(id);
    if (tmuxTried && !(await rollbackTmux(this.tmux, id, createdId, this.logger, cause))) {
      // tmux did not answer: the session may still appear (T-51). Its directory and index entry stay,
      // so it is then a workspace session (stoppable, restorable), never agents in a deleted directory.
      this.sessions.invalidate();
      return false;
    }
    let complete = true;
    await this.writer.remove(id).catch((e) => {
      complete = false;
      this.logger.error(`rollback: remove ${id} failed: ${String(e)}`);
    });
    this.sessions.invalidate();
    return complete;
  }
}
