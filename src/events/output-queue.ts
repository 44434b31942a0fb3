import type { BusEvent } from '../core/event-bus';
import type { OutputRange } from '../core/output-ring';

/** §10.3: per client at most this much output queued; beyond it, output becomes `gap`s. */
export const OUTPUT_QUEUE_BYTES = 1024 * 1024;

interface Waiting {
  frame: Buffer;
  output?: OutputRange;
}

/**
 * One client's frames not yet handed to its response, in order (so ids reach the client in seq
 * order and a `Last-Event-ID` never skips an output event still waiting here). Output and other
 * frames are counted apart (§10.3): output is bounded here, where an event that does not fit is
 * dropped and its range remembered per agent, and so are that agent's next events until the
 * client has taken enough for the one `gap` `slow_consumer` that then stands for them all. Per
 * agent the byte order holds: events queued before the drop, the gap, live events after it.
 */
export class OutputQueue {
  private readonly waiting: Waiting[] = [];
  private head = 0;
  private outputBytes = 0;
  private otherBytes = 0;
  private readonly missed = new Map<string, OutputRange>();

  /** `inResponse` is the output already written but not yet sent; it counts towards the cap. */
  offer(e: BusEvent, inResponse: number): 'queued' | 'dropped' {
    const r = e.output!;
    const key = `${r.sessionId}/${r.agentId}`;
    const m = this.missed.get(key);
    if (m) {
      m.next = Math.max(m.next, r.next);
      return 'dropped';
    }
    const frame = Buffer.from(e.frame);
    if (this.outputBytes + inResponse + frame.length > OUTPUT_QUEUE_BYTES) {
      this.missed.set(key, { ...r });
      return 'dropped';
    }
    this.waiting.push({ frame, output: r });
    this.outputBytes += frame.length;
    return 'queued';
  }

  /** A frame that is not output (bounded by the caller, which disconnects beyond its cap). */
  pushOther(frame: string): void {
    const b = Buffer.from(frame);
    this.waiting.push({ frame: b });
    this.otherBytes += b.length;
  }

  /** A gap frame, queued behind what waits whatever the cap (it is small and replaces much). */
  pushGap(frame: string, r: OutputRange): void {
    const b = Buffer.from(frame);
    this.waiting.push({ frame: b, output: r });
    this.outputBytes += b.length;
  }

  /** The next frame to write, if any. */
  take(): Waiting | undefined {
    if (this.head >= this.waiting.length) return undefined;
    const w = this.waiting[this.head++];
    if (w.output) this.outputBytes -= w.frame.length;
    else this.otherBytes -= w.frame.length;
    if (this.head > 256 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    return w;
  }

  /**
   * Once there is room again (half the output cap free), the ranges dropped meanwhile, one per
   * agent, to be queued as gaps; from then on that agent's events queue again.
   */
  gapsDue(inResponse: number): OutputRange[] {
    if (this.missed.size === 0 || this.outputBytes + inResponse > OUTPUT_QUEUE_BYTES / 2) return [];
    const due = [...this.missed.values()];
    this.missed.clear();
    return due;
  }

  get queuedOutput(): number {
    return this.outputBytes;
  }

  get queuedOther(): number {
    return this.otherBytes;
  }
}
