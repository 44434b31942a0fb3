import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { EventBus, type EventType } from '../core/event-bus';
import { EventStream, HEARTBEAT_MS, QUEUE_CAP_BYTES } from './event-stream';

/** A response whose socket never drains: everything written stays queued. */
class StuckResponse extends EventEmitter {
  writableLength = 0;
  destroyed = false;
  written: string[] = [];
  write(s: string | Buffer): boolean {
    this.written.push(s.toString());
    this.writableLength += Buffer.byteLength(s);
    return false;
  }
  /** The client reads everything queued. */
  drainAll(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
  end(): void {
    this.emit('close');
  }
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

const make = (types: EventType[] = ['session', 'agent'], sessionId?: string) => {
  const bus = new EventBus();
  const res = new StuckResponse();
  let ended = 0;
  const s = new EventStream(
    res as unknown as ServerResponse,
    bus,
    { types: new Set(types), sessionId },
    () => ended++,
  );
  s.start([]);
  return { bus, res, ended: () => ended };
};

describe(EventStream.name, () => {
  afterEach(() => jest.useRealTimers());

  it('a heartbeat comment every 15 s', () => {
    jest.useFakeTimers();
    const { res } = make();
    jest.advanceTimersByTime(HEARTBEAT_MS * 2);
    expect(res.written).toEqual([': heartbeat\n\n', ': heartbeat\n\n']);
  });

  it('filters by type and session; gaps always pass', () => {
    const { bus, res } = make(['session'], 's1');
    bus.publish('session', {}, 's1');
    bus.publish('session', {}, 's2');
    bus.publish('agent', {}, 's1');
    bus.publish('gap', { reason: 'x' });
    expect(res.written.map((f) => f.split('\n')[1])).toEqual(['event: session', 'event: gap']);
  });

  it('more than 256 KiB queued: disconnected, counted, unsubscribed', () => {
    const { bus, res, ended } = make();
    const pad = 'x'.repeat(1000);
    for (let i = 0; i < 400; i++) bus.publish('agent', { pad });
    expect(res.destroyed).toBe(true);
    expect(res.writableLength).toBeLessThan(QUEUE_CAP_BYTES + 2000);
    expect(bus.subscribers).toBe(0);
    expect(bus.dropped.get('slow_consumer')).toBe(1);
    expect(ended()).toBe(1);
  });

  it('shutdown writes a final gap shutdown and ends the stream (A12)', () => {
    const { bus, res, ended } = make();
    bus.shutdown();
    expect(res.written.at(-1)).toMatch(/^id: .*\nevent: gap\ndata: \{"reason":"shutdown"/);
    expect(ended()).toBe(1);
  });
});
