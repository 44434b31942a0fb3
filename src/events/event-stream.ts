import type { ServerResponse } from 'node:http';
import type { BusEvent, EventBus, EventType } from '../core/event-bus';
import { OutputQueue } from './output-queue';

/** §10.3: a client with more than this of non-output events unsent is disconnected. */
export const QUEUE_CAP_BYTES = 256 * 1024;
/** §10.3: a comment line this often keeps proxies and clients from timing the stream out. */
export const HEARTBEAT_MS = 15_000;
/** Output is handed to the response only while less than this waits in it (socket back-pressure). */
export const RESPONSE_LOW_WATER = 64 * 1024;

export interface StreamFilter {
  types: Set<EventType>;
  sessionId?: string;
}

/**
 * One open `/events` response. Frames wait in order in an {@link OutputQueue} and enter the
 * response only while the socket keeps up ('drain'), so Node's buffer stays small. Output and other
 * frames are counted apart: output beyond 1 MiB becomes per-agent gaps; more than 256 KiB of other
 * frames unsent ends the stream. Ends on client close, that, or service shutdown (A12).
 */
export class EventStream {
  private readonly cleanups: Array<() => void> = [];
  private ended = false;
  private readonly queue = new OutputQueue();
  /** Bytes ever written, and where each output frame written ends: what of the buffer is output. */
  private written = 0;
  private readonly outputEnds: Array<{ end: number; size: number }> = [];
  private outputInBuffer = 0;

  constructor(
    private readonly res: ServerResponse,
    private readonly bus: EventBus,
    private readonly filter: StreamFilter,
    private readonly onEnd: () => void,
  ) {}

  /** Writes `backlog` (a resume: frames as they are, events through the filter), then follows the bus live. */
  start(backlog: Array<string | BusEvent>): void {
    if (this.res.destroyed) return this.end(); // the client left while the stream was opening
    this.res.once('close', () => this.end());
    this.res.on('drain', () => this.pump());
    if (this.filter.types.has('output')) this.cleanups.push(this.bus.wantOutput());
    for (const f of backlog)
      if (typeof f === 'string') this.write(f);
      else this.deliver(f);
    this.cleanups.push(this.bus.subscribe((e) => this.deliver(e)));
    this.cleanups.push(
      this.bus.onShutdown(() => {
        // the last word, whatever waits: the stream ends now (A12)
        this.res.write(this.bus.gapFrame('shutdown'));
        this.res.end();
        this.end();
      }),
    );
    const beat = setInterval(() => this.write(': heartbeat\n\n'), HEARTBEAT_MS);
    beat.unref();
    this.cleanups.push(() => clearInterval(beat));
  }

  wants(e: BusEvent): boolean {
    if (e.type === 'gap') {
      // a gap about output (it has a range) concerns only streams that take output
      if (e.output && !this.filter.types.has('output')) return false;
    } else if (!this.filter.types.has(e.type)) return false;
    return !this.filter.sessionId || !e.sessionId || e.sessionId === this.filter.sessionId;
  }

  /** Output queued here and in the response buffer (for tests and the bound). */
  get outputQueued(): number {
    return this.queue.queuedOutput + this.bufferedOutput();
  }

  private deliver(e: BusEvent): void {
    if (this.ended || !this.wants(e)) return;
    if (!e.output) return this.write(e.frame);
    if (this.queue.offer(e, this.bufferedOutput()) === 'dropped') {
      this.bus.countDropped('slow_consumer');
      return;
    }
    this.pump();
  }

  /** A frame that is not output: queued in order; more than 256 KiB of them unsent ends the stream. */
  private write(frame: string): void {
    if (this.ended) return;
    this.queue.pushOther(frame);
    this.pump();
    const unsent = this.queue.queuedOther + this.res.writableLength - this.bufferedOutput();
    if (!this.ended && unsent > QUEUE_CAP_BYTES) {
      this.bus.countDropped('slow_consumer');
      this.res.destroy();
      this.end();
    }
  }

  /** Moves frames into the response while the socket keeps up; then the gaps that became due. */
  private pump(): void {
    for (let round = 0; round < 2 && !this.ended; round++) {
      while (!this.ended && this.res.writableLength < RESPONSE_LOW_WATER) {
        const w = this.queue.take();
        if (!w) break;
        this.res.write(w.frame);
        this.written += w.frame.length;
        if (w.output) {
          this.outputEnds.push({ end: this.written, size: w.frame.length });
          this.outputInBuffer += w.frame.length;
        }
      }
      const due = this.queue.gapsDue(this.bufferedOutput());
      if (due.length === 0) return;
      for (const r of due) this.queue.pushGap(this.bus.gapFrame('slow_consumer', { ...r }), r);
    }
  }

  /** Output frames written but still in the response buffer (the oldest one counted whole). */
  private bufferedOutput(): number {
    const sent = this.written - this.res.writableLength;
    while (this.outputEnds.length > 0 && this.outputEnds[0].end <= sent)
      this.outputInBuffer -= this.outputEnds.shift()!.size;
    return this.outputInBuffer;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const c of this.cleanups.splice(0)) c();
    this.onEnd();
  }
}
