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
 * One open `/events` response. Non-output events go straight to the response, whose write buffer
 * (`writableLength`) is their queue: more than 256 KiB of them unsent ends the stream. Output waits
 * in its own bounded {@link OutputQueue} and enters the response only while the socket keeps up
 * ('drain'), so Node's buffer never grows with it. Ends on client close, slow consumption of
 * non-output events, or service shutdown (A12).
 */
export class EventStream {
  private readonly cleanups: Array<() => void> = [];
  private ended = false;
  private readonly output = new OutputQueue();
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
        this.write(this.bus.gapFrame('shutdown'));
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
    return this.output.queuedBytes + this.bufferedOutput();
  }

  private deliver(e: BusEvent): void {
    if (this.ended || !this.wants(e)) return;
    if (!e.output) return this.write(e.frame);
    if (this.output.offer(e, this.bufferedOutput()) === 'dropped') {
      this.bus.countDropped('slow_consumer');
      return;
    }
    this.pump();
  }

  /** Moves output into the response while the socket keeps up; then the gaps that became due. */
  private pump(): void {
    for (let round = 0; round < 2 && !this.ended; round++) {
      while (!this.ended && this.res.writableLength < RESPONSE_LOW_WATER) {
        const f = this.output.take();
        if (!f) break;
        this.write(f, true);
      }
      const due = this.output.gapsDue(this.bufferedOutput());
      if (due.length === 0) return;
      for (const r of due) this.output.pushGap(this.bus.gapFrame('slow_consumer', { ...r }), r);
    }
  }

  private write(frame: string | Buffer, isOutput = false): void {
    if (this.ended) return;
    const b = typeof frame === 'string' ? Buffer.from(frame) : frame;
    this.res.write(b);
    this.written += b.length;
    if (isOutput) {
      this.outputEnds.push({ end: this.written, size: b.length });
      this.outputInBuffer += b.length;
    }
    if (this.res.writableLength - this.bufferedOutput() > QUEUE_CAP_BYTES) {
      this.bus.countDropped('slow_consumer');
      this.res.destroy();
      this.end();
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
