import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { onAnswered } from '../common/request-hooks';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { EventBus } from '../core/event-bus';
import { statusOf } from '../core/session.mapper';
import { SessionStore } from '../core/session-store';
import { CaptureService } from '../core/transcript/capture.service';
import { AGENT_STATUSES, SESSION_STATUSES } from '../domain/vocabulary';
import type { TmuxCallEvent } from '../tmux/tmux-observer';
import { TmuxGateway } from '../tmux/tmux.gateway';
import { onClientErrorAnswer } from '../http-adapter';
import { createMasRegistry, type MasRegistry, type Population } from './metrics.registry';
import { routeLabel } from './route-label';

/** The activity every agent count is pre-filled with, so the series do not come and go. */
const ACTIVITY = 'unknown';
/** How long a scrape waits for an expired snapshot to be retaken before it shows the last one. */
const REFRESH_WAIT_MS = 1000;

/**
 * This app's metrics (§10.5): it observes every HTTP answer (the early hook's refusals and the
 * bad-URL path included) and every tmux call, and computes state series at scrape from what the
 * service holds — the breaker, the cache's counts and the snapshot a list would read: one past the
 * cache TTL (or dropped by a write) is retaken first, so the gauges are as fresh as a list (R2).
 */
@Injectable()
export class MetricsService implements OnModuleInit, OnModuleDestroy {
  private readonly m: MasRegistry;

  constructor(
    private readonly adapter: HttpAdapterHost,
    private readonly gateway: TmuxGateway,
    private readonly store: SessionStore,
    private readonly bus: EventBus,
    private readonly capture: CaptureService,
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
  ) {
    this.m = createMasRegistry({
      breakerState: () => {
        const b = this.gateway.breaker;
        return b.halfOpen ? 1 : b.opened ? 2 : 0;
      },
      cacheLookups: () => this.store.cacheLookups,
      population: () => this.population(),
      events: () => ({ clients: this.bus.subscribers, dropped: this.bus.dropped }),
    });
  }

  get contentType(): string {
    return this.m.registry.contentType;
  }

  async render(): Promise<string> {
    await this.refresh();
    return this.m.registry.metrics();
  }

  /**
   * A stopped or killed session must not be counted until someone happens to list (A14c-2). The
   * retake goes through the cache, shared with concurrent readers; a tmux that does not answer
   * within a second leaves the last values, so a scrape never hangs on tmux.
   */
  private async refresh(): Promise<void> {
    if (this.store.peekSnapshot(this.cfg.cacheTtlMs)) return;
    const retake = this.store.snapshot().catch(() => undefined);
    await Promise.race([retake, sleep(REFRESH_WAIT_MS, undefined, { ref: false })]);
  }

  onModuleInit(): void {
    onAnswered(this.adapter.httpAdapter.getInstance<FastifyInstance>(), (req, reply) =>
      this.answered(req, reply),
    );
    // a head Node could not read (408, 400) is answered before Fastify sees a request: counted, untimed
    onClientErrorAnswer(this.adapter.httpAdapter.getHttpServer(), (status) =>
      this.m.httpRequests.inc({ route: 'unmatched', method: 'unknown', status: String(status) }),
    );
    this.gateway.observeCalls({ callEnded: (e) => this.tmuxCall(e) });
    this.capture.observer = (bytes) => this.m.outputBytes.inc(bytes);
  }

  onModuleDestroy(): void {
    this.gateway.observeCalls(undefined);
    this.capture.observer = undefined;
    this.m.registry.clear();
  }

  private answered(req: FastifyRequest, reply: FastifyReply): void {
    const route = routeLabel(req);
    this.m.httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    this.m.httpDuration.observe({ route, method: req.method }, reply.elapsedTime / 1000);
  }

  private tmuxCall(e: TmuxCallEvent): void {
    this.m.tmuxCalls.inc({ command: e.command, path: e.path, outcome: e.outcome });
    this.m.tmuxDuration.observe({ command: e.command, path: e.path }, e.durationMs / 1000);
  }

  /** Every status shows, 0 included, so a dashboard's series do not come and go. */
  private population(): Population | undefined {
    const snap = this.store.peekSnapshot();
    if (!snap) return undefined;
    const sessions = new Map<string, number>(SESSION_STATUSES.map((s) => [s, 0]));
    const agents = new Map<string, number>(AGENT_STATUSES.map((s) => [`${s} ${ACTIVITY}`, 0]));
    for (const k of snap.sessions) {
      const status = statusOf(k, this.store.state);
      sessions.set(status, (sessions.get(status) ?? 0) + 1);
      const activityOf = this.store.activityOf(k);
      for (const a of k.agents) {
        const key = `${a.status} ${activityOf(a).activity}`;
        agents.set(key, (agents.get(key) ?? 0) + 1);
      }
    }
    return { sessions, agents };
  }
}
