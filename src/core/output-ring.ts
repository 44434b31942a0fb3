/** A byte range of one agent's transcript (§10.2 offsets), as `output` events and their gaps carry it. */
export interface OutputRange {
  sessionId: string;
  agentId: string;
  from: number;
  next: number;
}

/** What the ring keeps of an `output` event: its seq, time, range and frame. */
export interface HeldOutput {
  seq: number;
  at: number;
  frame: string;
  output?: OutputRange;
}

/** §10.3: output events are kept up to 8 MiB (their frames, what they cost in memory). */
export const OUTPUT_RING_BYTES = 8 * 1024 * 1024;
/** Ranges no longer held are remembered as long as a resume point may need them (the ring's 60 s). */
const MISSED_MS = 60_000;
const MISSED_MAX = 200_000;

interface Missed extends OutputRange {
  seq: number;
  at: number;
}

/**
 * The output half of the resume ring (§10.3). Held events are replayed; for events evicted (or
 * never published, see {@link miss}) only the range is remembered, so a resume gets one `gap`
 * per agent with the bytes to fetch from /output. Per agent, published ranges are contiguous
 * (the feed guarantees it), so the missed range after a resume point is [min from, max next).
 */
export class OutputRing<E extends HeldOutput = HeldOutput> {
  private readonly held: E[] = [];
  private heldStart = 0;
  private heldBytes = 0;
  private readonly missed: Missed[] = [];
  private missedStart = 0;
  /** Seq of the newest range forgotten: a resume point before it is `expired`. */
  horizon = 0;

  constructor(public maxBytes = OUTPUT_RING_BYTES) {}

  add(e: E): void {
    this.held.push(e);
    this.heldBytes += e.frame.length;
    while (this.heldBytes > this.maxBytes && this.heldStart < this.held.length) {
      const old = this.held[this.heldStart++];
      this.heldBytes -= old.frame.length;
      if (old.output) this.miss(old.seq, old.output, old.at);
    }
    if (this.heldStart > 1024 && this.heldStart * 2 > this.held.length) {
      this.held.splice(0, this.heldStart);
      this.heldStart = 0;
    }
  }

  /** A range no client can be given from memory any more (evicted, skipped, or not published). */
  miss(seq: number, r: OutputRange, at = Date.now()): void {
    this.missed.push({ seq, at, ...r });
    this.prune(Date.now());
  }

  /** The held events after `after`, and per agent the range of those no longer held. */
  since(after: number): { events: E[]; gaps: OutputRange[] } {
    this.prune(Date.now());
    const gaps = new Map<string, OutputRange>();
    for (let i = this.missedStart; i < this.missed.length; i++) {
      const m = this.missed[i];
      if (m.seq <= after) continue;
      const key = `${m.sessionId}/${m.agentId}`;
      const g = gaps.get(key);
      if (!g)
        gaps.set(key, { sessionId: m.sessionId, agentId: m.agentId, from: m.from, next: m.next });
      else {
        g.from = Math.min(g.from, m.from);
        g.next = Math.max(g.next, m.next);
      }
    }
    const events = this.held.slice(this.heldStart).filter((e) => e.seq > after);
    return { events, gaps: [...gaps.values()] };
  }

  get bytes(): number {
    return this.heldBytes;
  }

  private prune(now: number): void {
    while (
      this.missed.length > this.missedStart &&
      (this.missed.length - this.missedStart > MISSED_MAX ||
        now - this.missed[this.missedStart].at > MISSED_MS)
    )
      this.horizon = Math.max(this.horizon, this.missed[this.missedStart++].seq);
    if (this.missedStart > 1024 && this.missedStart * 2 > this.missed.length) {
      this.missed.splice(0, this.missedStart);
      this.missedStart = 0;
    }
  }
}
