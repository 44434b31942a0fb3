import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';

/** §10.3's event names; `output` is accepted by the route but nothing publishes it yet. */
export const EVENT_TYPES = ['session', 'agent', 'startup', 'message', 'output', 'gap'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export const DEFAULT_EVENT_TYPES: readonly EventType[] = ['session', 'agent', 'startup', 'message'];
export type GapReason = 'slow_consumer' | 'expired' | 'restarted' | 'shutdown';

/** One published event, framed once for every client that receives it. */
export interface BusEvent {
  seq: number;
  type: EventType;
  /** The session it is about, for the per-client `sessionId` filter; none for service-wide gaps. */
  sessionId?: string;
  at: number;
  /** The whole SSE frame: `id:`, `event:`, one `data:` line and the blank line. */
  frame: string;
}

export type BusListener = (e: BusEvent) => void;

/** The ring of §10.3: the last 10,000 non-output events or 60 s, whichever is less. */
const RING_MAX = 10_000;
const RING_MS = 60_000;

/** What a `Last-Event-ID` resumes to: the events after it, or a gap when they are not all held. */
export type Resume = { events: BusEvent[] } | { gap: 'expired' | 'restarted' };

/**
 * The service's one event stream (contract §10.3): features and the watcher publish, stream
 * clients subscribe. Ids are `<epoch>-<seq>` with an epoch fixed per process. Non-output events
 * are kept in a bounded ring for `Last-Event-ID` resume. `output` events (transcript capture, built
 * separately) can be published through the same {@link publish}; they bypass this ring, which the
 * contract sizes by count and age for non-output events only, and need their own byte-bounded ring.
 */
@Injectable()
export class EventBus {
  readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly ring: BusEvent[] = [];
  private ringStart = 0;
  /** Seq of the newest event evicted from the ring; resuming from before it is `expired`. */
  private evictedUpTo = 0;
  private readonly listeners = new Set<BusListener>();
  private readonly shutdownHooks = new Set<() => void>();
  private closed = false;
  /** For metrics (§10.5): events not delivered to a client, by reason, since start. */
  readonly dropped = new Map<string, number>();

  /** Publishes one event to every subscriber; `data` is one JSON line (§10.3). */
  publish(type: EventType, data: Record<string, unknown>, sessionId?: string): BusEvent {
    const seq = ++this.seq;
    const id = `${this.epoch}-${seq}`;
    const e: BusEvent = {
      seq,
      type,
      sessionId,
      at: Date.now(),
      frame: `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`,
    };
    if (type !== 'output' && type !== 'gap') {
      this.ring.push(e);
      this.prune(e.at);
    }
    for (const fn of this.listeners) fn(e);
    return e;
  }

  /** A gap for one client only: it takes a seq (ids stay monotonic) but is neither kept nor broadcast. */
  gapFrame(reason: GapReason, extra: Record<string, unknown> = {}): string {
    const id = `${this.epoch}-${++this.seq}`;
    const data = { reason, at: new Date().toISOString(), ...extra };
    return `id: ${id}\nevent: gap\ndata: ${JSON.stringify(data)}\n\n`;
  }

  subscribe(fn: BusListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** The events after `lastId`, or why they cannot all be given (§10.3). */
  resume(lastId: string): Resume {
    const m = /^([0-9a-f]{8})-([0-9]{1,15})$/.exec(lastId.trim());
    if (!m || m[1] !== this.epoch) return { gap: 'restarted' };
    const after = Number(m[2]);
    if (after > this.seq) return { gap: 'restarted' };
    this.prune(Date.now());
    if (after < this.evictedUpTo) return { gap: 'expired' };
    const held = this.ring.slice(this.ringStart);
    return { events: held.filter((e) => e.seq > after) };
  }

  countDropped(reason: string): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  /** Stream clients register how to end themselves (A12: a final `gap` `shutdown`). */
  onShutdown(fn: () => void): () => void {
    if (this.closed) {
      fn();
      return () => undefined;
    }
    this.shutdownHooks.add(fn);
    return () => this.shutdownHooks.delete(fn);
  }

  get isShutDown(): boolean {
    return this.closed;
  }

  /** Ends every stream at once (A12); later openings end as soon as they start. */
  shutdown(): void {
    this.closed = true;
    for (const fn of [...this.shutdownHooks]) fn();
    this.shutdownHooks.clear();
  }

  private prune(now: number): void {
    while (
      this.ring.length - this.ringStart > RING_MAX ||
      (this.ring.length > this.ringStart && now - this.ring[this.ringStart].at > RING_MS)
    ) {
      this.evictedUpTo = this.ring[this.ringStart].seq;
      this.ringStart++;
    }
    // compact now and then rather than shift() per event
    if (this.ringStart > 1024 && this.ringStart * 2 > this.ring.length) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
  }
}
