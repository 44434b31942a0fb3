import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { EventRing, mergeBySeq, sseFrame } from './event-ring';
import { type MissedRange, type OutputRange, OutputRing } from './output-ring';

/** §10.3's event names; `output` is opt-in (published by the output feed while a stream wants it). */
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
  /** For `output` events and their gaps: the agent and byte range (per-client queue, resume). */
  output?: OutputRange;
}

export type BusListener = (e: BusEvent) => void;

/**
 * What a `Last-Event-ID` resumes to: the events after it in seq order, output no longer held as
 * `gap` `expired` events with the agent's byte range; or a gap when even non-output is not all held.
 */
export type Resume = { events: BusEvent[] } | { gap: 'expired' | 'restarted' };

/**
 * The service's one event stream (contract §10.3): features and the watcher publish, stream
 * clients subscribe. Ids are `<epoch>-<seq>` with an epoch fixed per process. Non-output events
 * are kept in a bounded ring for `Last-Event-ID` resume; `output` events ({@link publishOutput})
 * in their own byte-bounded one ({@link OutputRing}), which remembers the ranges it let go.
 */
@Injectable()
export class EventBus {
  readonly epoch = randomBytes(4).toString('hex');
  private seq = 0;
  private readonly ring = new EventRing<BusEvent>();
  private readonly listeners = new Set<BusListener>();
  /** Output events held for resume; `maxBytes` may be lowered (tests). */
  readonly outputRing = new OutputRing<BusEvent>();
  private outputStreams = 0;
  private readonly shutdownHooks = new Set<() => void>();
  private closed = false;
  /** For metrics (§10.5): events not delivered to a client, by reason, since start. */
  readonly dropped = new Map<string, number>();

  /** Publishes one event to every subscriber; `data` is one JSON line (§10.3). */
  publish(
    type: Exclude<EventType, 'output'>,
    data: Record<string, unknown>,
    sessionId?: string,
  ): BusEvent {
    const seq = ++this.seq;
    const frame = sseFrame(this.id(seq), type, data);
    const e: BusEvent = { seq, type, sessionId, at: Date.now(), frame };
    if (type !== 'gap') this.ring.add(e);
    for (const fn of this.listeners) fn(e);
    return e;
  }

  /** One `output` event (§10.3): held in the output ring, sent to every subscriber. */
  publishOutput(r: OutputRange, data: string): BusEvent {
    const seq = ++this.seq;
    const payload = {
      sessionId: r.sessionId,
      agentId: r.agentId,
      from: r.from,
      next: r.next,
      data,
    };
    const frame = sseFrame(this.id(seq), 'output', payload);
    const e: BusEvent = {
      seq,
      type: 'output',
      sessionId: r.sessionId,
      at: Date.now(),
      frame,
      output: r,
    };
    this.outputRing.add(e);
    for (const fn of this.listeners) fn(e);
    return e;
  }

  /**
   * Output bytes that no event carries (not published while no stream wanted output, or skipped):
   * remembered as missed for resume; `live` also sends every subscriber a `gap` for the range.
   */
  missOutput(r: OutputRange, live: boolean, reason: GapReason = 'slow_consumer'): MissedRange {
    const seq = ++this.seq;
    const m = this.outputRing.miss(seq, r);
    if (!live) return m;
    this.countDropped(reason); // output no client got as events: a drop like a full client queue
    const data = { reason, at: new Date().toISOString(), ...r };
    const frame = sseFrame(this.id(seq), 'gap', data);
    const e: BusEvent = {
      seq,
      type: 'gap',
      sessionId: r.sessionId,
      at: Date.now(),
      frame,
      output: r,
    };
    for (const fn of this.listeners) fn(e);
    return m;
  }

  /** A stream that wants `output` says so while open: the feed publishes only while one does. */
  wantOutput(): () => void {
    this.outputStreams++;
    let done = false;
    return () => {
      if (!done) this.outputStreams--;
      done = true;
    };
  }

  get outputWanted(): boolean {
    return this.outputStreams > 0;
  }

  /** A gap for one client only: it takes a seq (ids stay monotonic) but is neither kept nor broadcast. */
  gapFrame(reason: GapReason, extra: Record<string, unknown> = {}): string {
    return sseFrame(this.id(++this.seq), 'gap', {
      reason,
      at: new Date().toISOString(),
      ...extra,
    });
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
    // `restarted` is for another process's epoch (§10.3); an unknown point of ours is `expired`
    if (after > this.seq) return { gap: 'expired' };
    const held = this.ring.after(after);
    const out = this.outputRing.since(after);
    if (after < this.ring.evictedUpTo || after < this.outputRing.horizon) return { gap: 'expired' };
    const at = new Date().toISOString();
    const gaps = out.gaps.map((g): BusEvent => {
      const data = { reason: 'expired', at, ...g.range };
      const frame = sseFrame(this.id(g.seq), 'gap', data);
      return {
        seq: g.seq,
        type: 'gap',
        sessionId: g.range.sessionId,
        at: 0,
        frame,
        output: g.range,
      };
    });
    return { events: mergeBySeq(mergeBySeq(held, out.events), gaps) };
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

  private id(seq: number): string {
    return `${this.epoch}-${seq}`;
  }
}
