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

/** A gap of a resume: the range, at the seq it stands in for. */
export interface SeqGap {
  seq: number;
  range: OutputRange;
}

const keyOf = (r: OutputRange) => `${r.sessionId}/${r.agentId}`;
const pick = (r: OutputRange): OutputRange => ({
  sessionId: r.sessionId,
  agentId: r.agentId,
  from: r.from,
  next: r.next,
});

/** A remembered range; `next` and `at` may be moved on while it grows. */
export interface MissedRange extends OutputRange {
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
  private readonly missed: MissedRange[] = [];
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

  /**
   * A range no client can be given from memory any more (evicted, skipped, or not published).
   * The record is returned so a range still growing (bytes not published) can be extended.
   */
  miss(seq: number, r: OutputRange, at = Date.now()): MissedRange {
    const m = { seq, at, ...pick(r) };
    this.missed.push(m);
    this.prune(Date.now());
    return m;
  }

  /**
   * The held events after `after`, and the gaps for what is not held: per agent, each run of
   * missed ranges between two of its held events is one gap, at the seq of the run's last range
   * (so ids stay monotonic and a resume from a gap's id does not repeat it).
   */
  since(after: number): { events: E[]; gaps: SeqGap[] } {
    this.prune(Date.now());
    const missed = this.missed.slice(this.missedStart).filter((m) => m.seq > after);
    const events = this.held.slice(this.heldStart).filter((e) => e.seq > after);
    if (missed.length === 0) return { events, gaps: [] };
    missed.sort((a, b) => a.seq - b.seq);
    const gaps: SeqGap[] = [];
    const open = new Map<string, SeqGap>();
    const close = (key: string) => {
      const g = open.get(key);
      if (g) gaps.push(g);
      open.delete(key);
    };
    let j = 0;
    for (const m of missed) {
      // the held events before this range end the runs of their agents
      for (; j < events.length && events[j].seq < m.seq; j++)
        if (events[j].output) close(keyOf(events[j].output!));
      const key = keyOf(m);
      const g = open.get(key);
      if (!g) open.set(key, { seq: m.seq, range: { ...pick(m) } });
      else {
        g.seq = m.seq;
        g.range.from = Math.min(g.range.from, m.from);
        g.range.next = Math.max(g.range.next, m.next);
      }
    }
    for (const key of [...open.keys()]) close(key);
    return { events, gaps: gaps.sort((a, b) => a.seq - b.seq) };
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
