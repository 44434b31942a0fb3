import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { EventBus } from '../event-bus';
import type { MissedRange, OutputRange } from '../output-ring';
import { CaptureService, type CapturedOutput } from './capture.service';
import { insideLength, wholeCharsLength } from './utf8-bounds';

/** §10.3: per agent at most one `output` event every 50 ms, of at most 16 KiB of file bytes. */
export const OUTPUT_EVERY_MS = 50;
export const OUTPUT_MAX_BYTES = 16 * 1024;
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
  /** Per agent, its last ≤ 3 transcript bytes: where a feed begins, whether it is inside a character. */
  private readonly tails = new Map<string, Buffer>();
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
    const tail = this.tails.get(key);
    this.tails.set(key, lastBytes(tail, o.bytes));
    if (!this.bus.outputWanted) return this.unwanted(key, o, o.from + o.bytes.length);
    let f = this.feeds.get(key);
    if (f && f.from + f.pendingBytes !== o.from) {
      // not contiguous (absolute offsets make it impossible, but never send a wrong `from`)
      this.bus.missOutput(this.range(f, o.from), true);
      this.published.set(key, o.from);
      this.drop(key);
      f = undefined;
    }
    let bytes = o.bytes;
    // a feed beginning inside a character starts after it, as /output would (§10.2); the
    // character's last bytes may come in a later chunk
    const inside = tail && (!f || f.pendingBytes === 0) ? insideLength(tail, bytes) : 0;
    if (!f) f = this.begin(key, o, o.from + inside);
    else if (inside > 0) {
      this.bus.missOutput(this.range(f, f.from + inside), false);
      f.from += inside;
      this.published.set(key, f.from);
    }
    bytes = bytes.subarray(inside);
    if (f.pendingBytes + bytes.length > PENDING_CAP) {
      // skipped up to a character boundary: the next event starts on one, like a read at `next`
      const whole = wholeCharsLength(bytes);
      const next = o.from + (o.bytes.length - bytes.length) + whole;
      this.bus.missOutput(this.range(f, next), true);
      this.published.set(key, next);
      const rest = Buffer.from(bytes.subarray(whole));
      Object.assign(f, {
        from: next,
        pending: rest.length ? [rest] : [],
        pendingBytes: rest.length,
      });
      return;
    }
    if (bytes.length === 0) return;
    f.pending.push(bytes);
    f.pendingBytes += bytes.length;
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

  /** Starts an agent's feed at `from`; bytes since its last event no stream got are missed. */
  private begin(key: string, o: CapturedOutput, from: number): AgentFeed {
    this.unpublished.delete(key);
    const last = this.published.get(key);
    const f: AgentFeed = {
      sessionId: o.sessionId,
      agentId: o.agentId,
      from,
      pending: [],
      pendingBytes: 0,
      lastEmit: 0,
    };
    if (last !== undefined && last < from) this.bus.missOutput(this.range(f, from, last), false);
    this.published.set(key, from);
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
    // an incomplete character waits for its last bytes however long they take, as /output does
    const used = wholeCharsLength(head);
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

/** The last ≤ 3 bytes of `prev` followed by `next`. */
function lastBytes(prev: Buffer | undefined, next: Buffer): Buffer {
  if (next.length >= 3 || !prev) return Buffer.from(next.subarray(Math.max(0, next.length - 3)));
  return Buffer.concat([prev, next]).subarray(-3);
}
