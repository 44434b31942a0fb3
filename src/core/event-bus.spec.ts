import { EventBus } from './event-bus';

describe(EventBus.name, () => {
  afterEach(() => jest.useRealTimers());

  it('ids are <epoch>-<seq>, one frame per event, and resume replays exactly what followed', () => {
    const bus = new EventBus();
    const a = bus.publish('session', { n: 1 }, 's1');
    bus.publish('agent', { n: 2 }, 's1');
    bus.publish('message', { n: 3 }, 's2');
    expect(a.frame).toBe(`id: ${bus.epoch}-1\nevent: session\ndata: {"n":1}\n\n`);
    const r = bus.resume(`${bus.epoch}-1`);
    expect('events' in r && r.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(bus.resume(`${bus.epoch}-3`)).toEqual({ events: [] });
  });

  it('another epoch, an id from the future or garbage: restarted', () => {
    const bus = new EventBus();
    bus.publish('session', {});
    expect(bus.resume('00000000-1')).toEqual({ gap: 'restarted' });
    expect(bus.resume(`${bus.epoch}-99`)).toEqual({ gap: 'restarted' });
    expect(bus.resume('nonsense')).toEqual({ gap: 'restarted' });
  });

  it('the ring holds 10,000 events: a resume point before the oldest held is expired', () => {
    const bus = new EventBus();
    for (let i = 0; i < 10_002; i++) bus.publish('agent', { i });
    expect(bus.resume(`${bus.epoch}-1`)).toEqual({ gap: 'expired' });
    const r = bus.resume(`${bus.epoch}-2`);
    expect('events' in r && r.events.length).toBe(10_000);
  });

  it('the ring holds 60 s: older events expire', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const bus = new EventBus();
    bus.publish('agent', { old: true });
    bus.publish('agent', { old: true });
    jest.setSystemTime(1_000_000 + 61_000);
    bus.publish('agent', { old: false });
    expect(bus.resume(`${bus.epoch}-1`)).toEqual({ gap: 'expired' });
    const r = bus.resume(`${bus.epoch}-2`);
    expect('events' in r && r.events.map((e) => e.seq)).toEqual([3]);
  });

  it('gaps and output are never kept in the ring (output gets its own byte-bounded one)', () => {
    const bus = new EventBus();
    bus.publish('session', {});
    bus.publish('output', { data: 'x' });
    bus.gapFrame('slow_consumer');
    const r = bus.resume(`${bus.epoch}-0`);
    expect('events' in r && r.events.map((e) => e.type)).toEqual(['session']);
  });

  it('shutdown runs every registered stream end once, and at once for a late one', () => {
    const bus = new EventBus();
    const ended: string[] = [];
    bus.onShutdown(() => ended.push('a'));
    const off = bus.onShutdown(() => ended.push('b'));
    off();
    bus.shutdown();
    bus.onShutdown(() => ended.push('late'));
    expect(ended).toEqual(['a', 'late']);
  });
});
