import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { DeliveryService, failureReceipt } from '../core/delivery.service';
import { EventBus } from '../core/event-bus';
import { SessionStore } from '../core/session-store';
import type { AgentView } from '../core/agent-status';
import type { KnownSession } from '../core/snapshot';
import type { StartupView } from '../core/startup';

const JOB_LIMIT_MS = 5 * 60_000;
// A pending launch check or prompt delay must not keep a closing process alive.
const UNREF = { ref: false } as const;

/**
 * The background phase of POST /runs (contract §4.9): launch check, then each prompt typed in
 * roster order through the shared delivery, one agent at a time under the session lock. Never
 * resumed after a restart, so a prompt is never typed twice; prompts are never logged.
 */
@Injectable()
export class StartupJob implements OnApplicationShutdown {
  private readonly logger = new Logger('Startup');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
    private readonly delivery: DeliveryService,
    private readonly bus: EventBus,
  ) {}

  onApplicationShutdown(): void {
    for (const v of this.sessions.state.startups.values()) v.cancel();
  }

  start(k: KnownSession, prompts: Map<string, string>): void {
    this.prune();
    let cancelled = false;
    const view: StartupView & { cancel: () => void } = {
      state: 'starting',
      startedAt: new Date().toISOString(),
      prompts: k.roster.map((agentId) => ({ agentId, state: 'pending' })),
      cancel: () => {
        cancelled = true;
        if (view.state !== 'starting') return;
        for (const p of view.prompts) if (p.state === 'pending') p.state = 'cancelled'; // A2
        this.finish(k.id, view, 'cancelled');
      },
    };
    this.sessions.state.startups.set(k.id, view);
    this.publish(k.id, view);
    const deadline = Date.now() + JOB_LIMIT_MS;
    const expired = () => Date.now() > deadline;
    void this.run(k, prompts, view, () => cancelled || expired())
      .then(() => {
        if (view.state !== 'starting') return;
        // the job's 5 minutes ran out: what was not typed is failed, never typed later (§4.9)
        for (const p of view.prompts)
          if (p.state === 'pending')
            Object.assign(p, { state: 'failed', reason: 'STARTUP_TIMEOUT' });
        this.finishByOutcome(k.id, view);
      })
      .catch((e) => {
        this.logger.error(`startup of ${k.tmuxName} failed: ${String(e)}`);
        if (view.state === 'starting') this.finish(k.id, view, 'failed');
      });
  }

  /**
   * Every await may end with the job cancelled (stop, forced restore): it checks before touching a
   * prompt and after every lock acquisition, so nothing is typed into a session restored meanwhile (A2).
   */
  private async run(
    k: KnownSession,
    prompts: Map<string, string>,
    view: StartupView,
    stop: () => boolean,
  ): Promise<void> {
    const id = k.id;
    const launchedAt = Date.now();
    await sleep(this.cfg.agentLaunchCheckMs, undefined, UNREF);
    if (stop()) return;
    const checked = await this.agentsOf(k);
    if (stop()) return;
    for (const p of view.prompts) {
      if (checked?.get(p.agentId)?.status !== 'running')
        Object.assign(p, { state: 'failed', reason: 'AGENT_NOT_RUNNING' });
    }
    if (view.prompts.some((p) => p.state === 'failed')) this.publish(id, view);
    await sleep(Math.max(0, this.cfg.promptDelayMs - (Date.now() - launchedAt)), undefined, UNREF);
    for (const p of view.prompts) {
      if (stop()) return;
      if (p.state !== 'pending') continue;
      await this.sessions.state.withLock(id, async () => {
        if (stop()) return;
        const a = (await this.agentsOf(k))?.get(p.agentId);
        if (stop()) return;
        if (!a || a.status !== 'running' || !a.paneId) {
          Object.assign(p, { state: 'failed', reason: 'AGENT_NOT_RUNNING' });
          return this.publish(id, view);
        }
        await this.type(k, id, p, a, prompts.get(p.agentId)!);
        this.publish(id, view);
      });
    }
    if (!stop()) this.finishByOutcome(k.id, view);
  }

  /** One prompt, with the delivery of §7.6; its outcome is recorded even if the job is cancelled meanwhile. */
  private async type(
    k: KnownSession,
    id: string,
    p: StartupView['prompts'][number],
    a: AgentView,
    text: string,
  ): Promise<void> {
    const target = {
      agentId: a.agentId,
      paneId: a.paneId!,
      window: a.window,
      pane: a.pane,
      inMode: Boolean(a.inMode),
    };
    try {
      const [r] = await this.delivery.deliver([target], text, true, k.tmux?.id);
      if (r.status === 'delivered') {
        p.state = 'delivered';
        // §7.6 step 5 applies to prompts too; it queues behind this job on the session lock.
        if (this.cfg.sendEof)
          void this.sessions.state
            .withLock(id, () => this.delivery.sendEof([target]))
            .catch(() => undefined);
      } else
        Object.assign(p, {
          state: r.status === 'unknown' ? 'unknown' : 'failed',
          reason: r.reason ?? 'TMUX_ERROR',
        });
    } catch (e) {
      const { status, reason } = failureReceipt(e);
      Object.assign(p, { state: status, reason });
    }
    this.logger.log(
      `prompt ${p.agentId} of ${id.slice(0, 8)}: ${p.state} (${text.length} chars, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 12)})`,
    );
  }

  private finishByOutcome(id: string, view: StartupView): void {
    const delivered = view.prompts.filter((p) => p.state === 'delivered').length;
    this.finish(
      id,
      view,
      delivered === view.prompts.length ? 'ready' : delivered > 0 ? 'degraded' : 'failed',
    );
  }

  /** Forgets startups that ended more than an hour ago, so the map does not grow without bound. */
  private prune(): void {
    const cutoff = Date.now() - 3_600_000;
    for (const [id, v] of this.sessions.state.startups)
      if (v.finishedAt && Date.parse(v.finishedAt) < cutoff)
        this.sessions.state.startups.delete(id);
  }

  private async agentsOf(k: KnownSession) {
    const now = await this.sessions.fresh(k);
    return now?.tmux ? new Map(now.agents.map((a) => [a.agentId, a])) : undefined;
  }

  private finish(id: string, view: StartupView, state: StartupView['state']): void {
    view.state = state;
    view.finishedAt = new Date().toISOString();
    this.sessions.invalidate();
    this.publish(id, view);
  }

  /** A `startup` event (§10.3): the progress as the detail shows it, copied now. */
  private publish(id: string, view: StartupView): void {
    const prompts = view.prompts.map((p) => ({ ...p }));
    this.bus.publish('startup', { sessionId: id, state: view.state, prompts }, id);
  }
}
