/** The ring of §10.3: the last 10,000 non-output events or 60 s, whichever is less. */
const RING_MAX = 10_000;
const RING_MS = 60_000;

/** The one SSE frame shape (§10.3): `id:`, `event:`, one JSON `data:` line and the blank line. */
export function sseFrame(id: string, type: string, data: unknown): string {
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * Non-output events held for `Last-Event-ID` resume, oldest first, bounded by count and age. An
 * index moves past evicted events and the array is compacted now and then, not shifted per event.
 */
export class EventRing<E extends { seq: number; at: number }> {
  private readonly held: E[] = [];
  private start = 0;
  /** Seq of the newest event evicted; resuming from before it is `expired`. */
  evictedUpTo = 0;

  add(e: E): void {
    this.held.push(e);
    this.prune(e.at);
  }

  /** The events held after `seq`, once the old ones are let go. */
  after(seq: number, now = Date.now()): E[] {
    this.prune(now);
    return this.held.slice(this.start).filter((e) => e.seq > seq);
  }

  private prune(now: number): void {
    while (
      this.held.length - this.start > RING_MAX ||
      (this.held.length > this.start && now - this.held[this.start].at > RING_MS)
    ) {
      this.evictedUpTo = this.held[this.start].seq;
      this.start++;
    }
    if (this.start > 1024 && this.start * 2 > this.held.length) {
      this.held.splice(0, this.start);
      this.start = 0;
    }
  }
}

/** Two seq-ordered lists as one. */
export function mergeBySeq<E extends { seq: number }>(a: E[], b: E[]): E[] {
  if (b.length === 0) return a;
  const out: E[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length)
    out.push(j >= b.length || (i < a.length && a[i].seq < b[j].seq) ? a[i++] : b[j++]);
  return out;
}
