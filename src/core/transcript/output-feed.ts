import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '../event-bus';
import type { MissedRange, OutputRange } from '../output-ring';
import { CaptureService, type CapturedOutput } from './capture.service';
import { wholeCharsLength } from './utf8-bounds';

/** §10.3: per agent at most one `output` event every 50 ms, of at most 16 KiB of file bytes. */
export const OUTPUT_EVERY_MS = 50;
export const OUTPUT_MAX_BYTES = 16 * 1024;
/** An incomplete character at the end is waited for this long, then sent as it is (U+FFFD). */
export const PARTIAL_WAIT_MS = 500;
/**
 * Bytes waiting per agent. An agent printing faster than the events may carry (16 KiB / 50 ms)
 * has the excess skipped with a `gap` rather than held without bound.
 */
export const PENDING_CAP = 1024 * 1024;

interface AgentFeed {
  sessionId: string;
  agentId: string;
  /** Offset of the first waiting byte (== `next` of the last event). */
  from: number;
  pending: Buffer[];
  pendingBytes: number;
  lastEmit: number;
  timer?: NodeJS.Timeout;
  /** When the waiting bytes became only an incomplete character. */
  partialSince?: number;
}

const decoder = new TextDecoder('utf-8');

/**
 * Turns captured transcript bytes into §10.3 `output` events (raw rules of §10.2: whole characters,
 * invalid sequences read as U+FFFD). Works only while a stream wants output; bytes printed while
 * none did are told to the bus as missed, so a later resume gets a `gap` for them.
 */
@Injectable()
export class OutputFeed implements OnModuleInit, OnModuleDestroy {
  private readonly feeds = new Map<string, AgentFeed>();
  /** Per agent, where its last event (or missed range) ended: to notice bytes no event carried. */
  private readonly published = new Map<string, number>();
  /** Per agent, the range not published since no stream wanted output, growing with each chunk. */
  private readonly unpublished = new Map<string, MissedRange>();
  private off?: () => void;

  constructor(
    private readonly capture: CaptureService,
    private readonly bus: EventBus,
  ) {}

  onModuleInit(): void {
    this.off = this.capture.onOutput((o) => this.take(o));
  }

  onModuleDestroy(): void {
    this.off?.();
    for (const f of this.feeds.values()) clearTimeout(f.timer);
    this.feeds.clear();
  }

  take(o: CapturedOutput): void {
    const key = `${o.sessionId}/${o.agentId}`;
    if (!this.bus.outputWanted) return this.unwanted(key, o, o.from + o.bytes.length);
    let f = this.feeds.get(key);
    if (f && f.from + f.pendingBytes !== o.from) {
      // not contiguous (absolute offsets make it impossible, but never send a wrong `from`)
      this.bus.missOutput(this.range(f, o.from), true);
      this.published.set(key, o.from);
      this.drop(key);
      f = undefined;
    }
    if (!f) f = this.begin(key, o);
    if (f.pendingBytes + o.bytes.length > PENDING_CAP) {
      const next = o.from + o.bytes.length;
      this.bus.missOutput(this.range(f, next), true);
      this.published.set(key, next);
      Object.assign(f, { from: next, pending: [], pendingBytes: 0, partialSince: undefined });
      return;
    }
    f.pending.push(o.bytes);
    f.pendingBytes += o.bytes.length;
    this.schedule(key, f);
  }

  /**
   * No stream wants output: the feed stops, and what it does not publish (waiting bytes included)
   * is one missed range per agent, extended chunk by chunk, so that a resume from before it gets
   * a `gap` for exactly the bytes no event carried.
   */
  private unwanted(key: string, who: { sessionId: string; agentId: string }, upTo: number): void {
    const from = this.feeds.get(key)?.from ?? this.published.get(key);
    this.drop(key);
    if (from === undefined || from >= upTo) return; // never published: no event to continue
    const u = this.unpublished.get(key);
    if (u && u.next === from) {
      u.next = upTo;
      u.at = Date.now(); // a range still growing is not forgotten while it grows
    } else {
      const r = { sessionId: who.sessionId, agentId: who.agentId, from, next: upTo };
      this.unpublished.set(key, this.bus.missOutput(r, false));
    }
    this.published.set(key, upTo);
  }

  /** Starts an agent's feed at this chunk; bytes since its last event no stream got are missed. */
  private begin(key: string, o: CapturedOutput): AgentFeed {
    this.unpublished.delete(key);
    const last = this.published.get(key);
    const f: AgentFeed = {
      sessionId: o.sessionId,
      agentId: o.agentId,
      from: o.from,
      pending: [],
      pendingBytes: 0,
      lastEmit: 0,
    };
    if (last !== undefined && last < o.from)
      this.bus.missOutput(this.range(f, o.from, last), false);
    this.feeds.set(key, f);
    return f;
  }

  private schedule(key: string, f: AgentFeed): void {
    if (f.timer) return;
    const wait = Math.max(0, f.lastEmit + OUTPUT_EVERY_MS - Date.now());
    f.timer = setTimeout(() => this.flush(key, f), wait);
    f.timer.unref();
  }

  private flush(key: string, f: AgentFeed): void {
    f.timer = undefined;
    if (this.feeds.get(key) !== f) return;
    if (!this.bus.outputWanted) return this.unwanted(key, f, f.from + f.pendingBytes);
    const early = f.lastEmit + OUTPUT_EVERY_MS - Date.now();
    if (early > 0) {
      // a timer may fire a millisecond early: the 50 ms between events are a promise
      f.timer = setTimeout(() => this.flush(key, f), early);
      f.timer.unref();
      return;
    }
    const all = f.pending.length === 1 ? f.pending[0] : Buffer.concat(f.pending);
    const head = all.subarray(0, OUTPUT_MAX_BYTES);
    let used = wholeCharsLength(head);
    if (used === 0) {
      // only an incomplete character: wait for the rest, but not for ever
      f.partialSince ??= Date.now();
      if (Date.now() - f.partialSince >= PARTIAL_WAIT_MS) used = head.length;
    }
    if (used > 0) this.emit(key, f, all, used);
    else f.pending = [all];
    if (f.pendingBytes === 0) return;
    // the rest (beyond 16 KiB, or an incomplete character) goes no sooner than the next slot
    f.timer = setTimeout(() => this.flush(key, f), OUTPUT_EVERY_MS);
    f.timer.unref();
  }

  private emit(key: string, f: AgentFeed, all: Buffer, used: number): void {
    const bytes = all.subarray(0, used);
    const next = f.from + used;
    this.bus.publishOutput(this.range(f, next), decoder.decode(bytes));
    this.published.set(key, next);
    const rest = all.subarray(used);
    f.pending = rest.length > 0 ? [Buffer.from(rest)] : [];
    f.pendingBytes = rest.length;
    f.from = next;
    f.lastEmit = Date.now();
    f.partialSince = undefined;
  }

  private drop(key: string): void {
    const f = this.feeds.get(key);
    if (!f) return;
    clearTimeout(f.timer);
    this.feeds.delete(key);
  }

  private range(f: AgentFeed, next: number, from = f.from): OutputRange {
    return { sessionId: f.sessionId, agentId: f.agentId, from, next };
  }
}
