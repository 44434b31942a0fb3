import type { ServerResponse } from 'node:http';
import type { BusEvent, EventBus, EventType } from '../core/event-bus';

/** §10.3: a client with more than this of non-output events unsent is disconnected. */
export const QUEUE_CAP_BYTES = 256 * 1024;
/** §10.3: a comment line this often keeps proxies and clients from timing the stream out. */
export const HEARTBEAT_MS = 15_000;

export interface StreamFilter {
  types: Set<EventType>;
  sessionId?: string;
}

/**
 * One open `/events` response. Its queue is the response's own write buffer: Node keeps what the
 * socket has not taken in `writableLength`, so bounding that bounds this client's memory without a
 * second queue. Ends on client close, slow consumption, or service shutdown (A12).
 */
export class EventStream {
  private readonly cleanups: Array<() => void> = [];
  private ended = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly bus: EventBus,
    private readonly filter: StreamFilter,
    private readonly onEnd: () => void,
  ) {}

  /** Writes `backlog` (a resume), then follows the bus live. */
  start(backlog: string[]): void {
    if (this.res.destroyed) return this.end(); // the client left while the stream was opening
    this.res.once('close', () => this.end());
    for (const f of backlog) this.write(f);
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
    if (e.type !== 'gap' && !this.filter.types.has(e.type)) return false;
    return !this.filter.sessionId || !e.sessionId || e.sessionId === this.filter.sessionId;
  }

  private deliver(e: BusEvent): void {
    if (this.wants(e)) this.write(e.frame);
  }

  private write(frame: string): void {
    if (this.ended) return;
    this.res.write(frame);
    if (this.res.writableLength > QUEUE_CAP_BYTES) {
      this.bus.countDropped('slow_consumer');
      this.res.destroy();
      this.end();
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const c of this.cleanups.splice(0)) c();
    this.onEnd();
  }
}
