import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { EventBus, type EventType } from '../core/event-bus';
import { EventStream, HEARTBEAT_MS, QUEUE_CAP_BYTES } from './event-stream';
import { OUTPUT_QUEUE_BYTES } from './output-queue';

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
  return { bus, res, s, ended: () => ended };
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

  describe('output', () => {
    const frames = (res: StuckResponse) =>
      res.written
        .filter((f) => f.includes('event: output') || f.includes('event: gap'))
        .map((f) => ({ type: f.split('\n')[1].slice(7), ...JSON.parse(f.split('data: ')[1]) }));
    const publish = (bus: EventBus, agentId: string, from: number, n: number) =>
      bus.publishOutput({ sessionId: 's1', agentId, from, next: from + n }, 'o'.repeat(n));

    it('only streams with output in types get output and output gaps, and say they want it', () => {
      const plain = make(['agent']);
      expect(plain.bus.outputWanted).toBe(false);
      publish(plain.bus, '10', 0, 5);
      plain.bus.missOutput({ sessionId: 's1', agentId: '10', from: 5, next: 9 }, true);
      expect(plain.res.written).toEqual([]);
      const taker = make(['output']);
      expect(taker.bus.outputWanted).toBe(true);
      publish(taker.bus, '10', 0, 5);
      expect(frames(taker.res).map((f) => f.type)).toEqual(['output']);
      // the sessionId filter applies to output too
      const one = make(['output'], 's2');
      publish(one.bus, '10', 0, 5);
      one.bus.publishOutput({ sessionId: 's2', agentId: '10', from: 0, next: 1 }, 'x');
      expect(frames(one.res).map((f) => f.sessionId)).toEqual(['s2']);
    });

    it('beyond 1 MiB queued: output dropped (counted), one gap per agent with the range once it drains, then live', () => {
      const { bus, res, s, ended } = make(['output', 'agent']);
      const size = 10_000;
      const next = { '10': 0, '11': 0 };
      // ~4 MiB offered to a client that reads nothing
      for (let i = 0; i < 200; i++)
        for (const a of ['10', '11'] as const) {
          publish(bus, a, next[a], size);
          next[a] += size;
        }
      expect(s.outputQueued).toBeLessThanOrEqual(OUTPUT_QUEUE_BYTES);
      expect(res.writableLength).toBeLessThan(128 * 1024); // Node's buffer holds little of it
      expect(bus.dropped.get('slow_consumer')).toBeGreaterThan(200);
      expect(ended()).toBe(0); // output never disconnects
      // other events wait in order behind the queued output (ids reach the client in seq order)
      bus.publish('agent', { live: true }, 's1');
      expect(ended()).toBe(0);
      // the client reads: queued output, then the gaps, then live output again
      for (let i = 0; i < 100; i++) res.drainAll();
      for (const a of ['10', '11'] as const) {
        publish(bus, a, next[a], 3);
        next[a] += 3;
      }
      res.drainAll();
      const ids = res.written
        .filter((f) => f.startsWith('id: '))
        .map((f) => Number(f.split(/[-\n]/)[1]));
      expect(res.written.some((f) => f.includes('"live":true'))).toBe(true);
      expect(ids.filter((x, i) => i > 0 && x < ids[i - 1])).toEqual([]);
      for (const a of ['10', '11']) {
        const mine = frames(res).filter((f) => f.agentId === a);
        const gaps = mine.filter((f) => f.type === 'gap');
        expect(gaps).toHaveLength(1);
        expect(gaps[0]).toMatchObject({ reason: 'slow_consumer', sessionId: 's1' });
        // byte continuity across output and the gap: nothing lost, nothing twice
        expect(mine[0].from).toBe(0);
        for (let i = 1; i < mine.length; i++) expect(mine[i].from).toBe(mine[i - 1].next);
        expect(mine.at(-1)).toMatchObject({ type: 'output', next: next[a as '10'] });
      }
    });
  });
});
