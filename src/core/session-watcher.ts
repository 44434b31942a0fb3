import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { EventBus } from './event-bus';
import { statusOf } from './session.mapper';
import { SessionStore } from './session-store';
import type { Snapshot } from './snapshot';

/** How often the model is compared while someone listens: with a listing's own time, well within §10.6's 2 s. */
const PERIOD_MS = 500;
/** A snapshot this young (another reader's) is used instead of a new listing. */
const REUSE_MS = 300;
/** Watching goes on this long after the last client left, so a client that reconnects can resume. */
const LINGER_MS = 60_000;

interface Seen {
  tmuxSession: string;
  status: string;
  agents: Map<string, { status: string; exitStatus: number | null; activity: string }>;
}

/**
 * Turns changes of the read model into `session` and `agent` events (§10.3, §10.6), an agent's
 * activity (§10.4) included: changes made by this service and outside it alike (a pane that exits,
 * a session killed or created by hand). One shared snapshot per period at most, and only while a
 * stream is open (or lately was): no client, no listing. Control-mode notifications could replace
 * the polling later without changing the bus.
 */
@Injectable()
export class SessionWatcher implements OnModuleDestroy {
  private readonly logger = new Logger('Watcher');
  private timer?: NodeJS.Timeout;
  private seen?: Map<string, Seen>;
  private baseline?: Promise<void>;
  private idleSince = 0;
  private polling = false;
  private failing?: string;

  constructor(
    private readonly store: SessionStore,
    private readonly bus: EventBus,
  ) {}

  /** Starts watching (if not already) and resolves once the first model is held, so no change is missed. */
  ensure(): Promise<void> {
    this.idleSince = 0;
    if (!this.timer) {
      this.timer = setInterval(() => void this.tick(), PERIOD_MS);
      this.timer.unref();
      this.baseline = this.poll().catch((e) => this.failed(e));
    }
    return this.baseline!;
  }

  onModuleDestroy(): void {
    this.stop();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.seen = undefined;
  }

  private async tick(): Promise<void> {
    if (this.bus.subscribers === 0) {
      this.idleSince ||= Date.now();
      if (Date.now() - this.idleSince > LINGER_MS) return this.stop();
    } else this.idleSince = 0;
    if (this.polling) return; // a slow listing is never overlapped by the next one
    await this.poll().catch((e) => this.failed(e));
  }

  /** Once per distinct failure, not twice a second for as long as tmux is down. */
  private failed(e: unknown): void {
    const m = String(e);
    if (m !== this.failing) this.logger.warn(`poll: ${m} (repeats are not logged)`);
    this.failing = m;
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const peek = this.store.peekSnapshot();
      const snap =
        peek && Date.now() - peek.takenAt <= REUSE_MS ? peek : await this.store.snapshot(true);
      if (this.timer) this.diff(snap);
      if (this.failing) this.logger.log(`poll: recovered after "${this.failing}"`);
      this.failing = undefined;
    } finally {
      this.polling = false;
    }
  }

  private diff(snap: Snapshot): void {
    const now = new Map<string, Seen>();
    for (const k of snap.sessions) {
      // activity moves with time, not with tmux: each period compares it afresh (§10.4)
      const activityOf = this.store.activityOf(k);
      now.set(k.id, {
        tmuxSession: k.tmuxName,
        status: statusOf(k, this.store.state),
        agents: new Map(
          k.agents.map((a) => [
            a.agentId,
            { status: a.status, exitStatus: a.exitStatus, activity: activityOf(a).activity },
          ]),
        ),
      });
    }
    const before = this.seen;
    this.seen = now;
    if (!before) return;
    const at = new Date().toISOString();
    for (const [id, s] of now) this.compare(id, before.get(id), s, at);
    for (const [id, old] of before)
      if (!now.has(id))
        // a session without a directory that is gone from tmux: it ends here
        this.bus.publish(
          'session',
          {
            sessionId: id,
            tmuxSession: old.tmuxSession,
            status: 'terminated',
            previous: old.status,
            at,
          },
          id,
        );
  }

  private compare(id: string, old: Seen | undefined, s: Seen, at: string): void {
    if (old?.status !== s.status)
      this.bus.publish(
        'session',
        {
          sessionId: id,
          tmuxSession: s.tmuxSession,
          status: s.status,
          previous: old?.status ?? null,
          at,
        },
        id,
      );
    for (const [agentId, a] of s.agents) {
      const was = old?.agents.get(agentId);
      if (
        was?.status === a.status &&
        was.exitStatus === a.exitStatus &&
        was.activity === a.activity
      )
        continue;
      this.bus.publish(
        'agent',
        {
          sessionId: id,
          agentId,
          status: a.status,
          previous: was?.status ?? null,
          activity: a.activity,
          exitStatus: a.exitStatus,
          at,
        },
        id,
      );
    }
  }
}
