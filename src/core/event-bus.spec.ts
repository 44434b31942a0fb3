import { EventBus, type Resume } from './event-bus';

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

  it('another epoch or garbage: restarted; A14-6: an unknown seq of this epoch: expired', () => {
    const bus = new EventBus();
    bus.publish('session', {});
    expect(bus.resume('00000000-1')).toEqual({ gap: 'restarted' });
    expect(bus.resume(`${bus.epoch}-99`)).toEqual({ gap: 'expired' });
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

  it('gaps and output are never kept in the non-output ring (output has its own byte-bounded one)', () => {
    const bus = new EventBus();
    bus.publish('session', {});
    bus.publishOutput({ sessionId: 's1', agentId: '10', from: 0, next: 1 }, 'x');
    bus.gapFrame('slow_consumer');
    const r = bus.resume(`${bus.epoch}-0`);
    // the output comes back from its own ring; the gap is nowhere
    expect('events' in r && r.events.map((e) => e.type)).toEqual(['session', 'output']);
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

/** The output gaps of a resume, as ranges. */
const gapsOf = (res: Resume) =>
  'events' in res ? res.events.filter((e) => e.type === 'gap').map((e) => e.output!) : [];

describe(`${EventBus.name} output ring`, () => {
  const r = (agentId: string, from: number, next: number) => ({
    sessionId: 's1',
    agentId,
    from,
    next,
  });

  it('output events are held and replayed with the others, in seq order', () => {
    const bus = new EventBus();
    const mark = bus.publish('session', {}, 's1');
    bus.publishOutput(r('10', 0, 3), 'abc');
    bus.publish('agent', {}, 's1');
    bus.publishOutput(r('10', 3, 5), 'de');
    const res = bus.resume(`${bus.epoch}-${mark.seq}`);
    expect('events' in res && res.events.map((e) => e.type)).toEqual(['output', 'agent', 'output']);
    expect(gapsOf(res)).toEqual([]);
    expect('events' in res && res.events[0].frame).toBe(
      `id: ${bus.epoch}-2\nevent: output\ndata: {"sessionId":"s1","agentId":"10","from":0,"next":3,"data":"abc"}\n\n`,
    );
  });

  it('output beyond the byte cap is let go: one gap range per agent, from the first missed byte', () => {
    const bus = new EventBus();
    bus.outputRing.maxBytes = 1000;
    const mark = bus.publish('session', {}, 's1');
    const pad = 'x'.repeat(100);
    // 10 and 11 interleaved, 100 bytes each: about 5 frames of ~190 bytes fit
    for (let i = 0; i < 10; i++) {
      bus.publishOutput(r('10', i * 100, (i + 1) * 100), pad);
      bus.publishOutput(r('11', 5000 + i * 100, 5000 + (i + 1) * 100), pad);
    }
    expect(bus.outputRing.bytes).toBeLessThanOrEqual(1000);
    const res = bus.resume(`${bus.epoch}-${mark.seq}`);
    if (!('events' in res)) throw new Error('expected events');
    const held = res.events.filter((e) => e.type === 'output').map((e) => e.output!);
    const gap10 = gapsOf(res).find((g) => g.agentId === '10')!;
    const gap11 = gapsOf(res).find((g) => g.agentId === '11')!;
    expect(gapsOf(res)).toHaveLength(2);
    // ids stay monotonic: the gaps come in seq order, before the agents' held events
    const seqs = res.events.map((e) => e.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(res.events.slice(0, 2).map((e) => e.type)).toEqual(['gap', 'gap']);
    expect(res.events[0].frame).toMatch(
      /^id: [0-9a-f]{8}-\d+\nevent: gap\ndata: \{"reason":"expired"/,
    );
    expect(gap10.from).toBe(0);
    expect(gap11.from).toBe(5000);
    // each gap ends where that agent's first held event starts: nothing lost, nothing twice
    expect(gap10.next).toBe(held.find((o) => o.agentId === '10')!.from);
    expect(gap11.next).toBe(held.find((o) => o.agentId === '11')!.from);
    // a resume point after some of the evicted ones: the gap starts at the next byte it lacks
    const later = bus.resume(`${bus.epoch}-${mark.seq + 2}`);
    expect(gapsOf(later).find((g) => g.agentId === '10')!.from).toBe(100);
  });

  it('a missed range (never published) is a gap for resume points before it; live ones reach subscribers', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe((e) => seen.push(e.type));
    const mark = bus.publish('session', {}, 's1');
    bus.missOutput(r('10', 0, 40), false);
    bus.publishOutput(r('10', 40, 42), 'hi');
    bus.missOutput(r('10', 42, 1000), true);
    const res = bus.resume(`${bus.epoch}-${mark.seq}`);
    // per agent in byte order: the gap before the held event, the live gap after it
    expect(
      'events' in res && res.events.map((e) => [e.type, e.output!.from, e.output!.next]),
    ).toEqual([
      ['gap', 0, 40],
      ['output', 40, 42],
      ['gap', 42, 1000],
    ]);
    expect(seen).toEqual(['session', 'output', 'gap']);
    expect(bus.resume(`${bus.epoch}-${mark.seq + 3}`)).toEqual({ events: [] });
  });

  it('missed ranges older than 60 s are forgotten: a resume point before them is expired', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const bus = new EventBus();
    const mark = bus.publish('session', {}, 's1');
    bus.missOutput(r('10', 0, 40), false);
    jest.setSystemTime(1_000_000 + 61_000);
    bus.publishOutput(r('10', 40, 42), 'hi');
    expect(bus.resume(`${bus.epoch}-${mark.seq}`)).toEqual({ gap: 'expired' });
  });

  it('wantOutput counts the streams that take output; releasing twice counts once', () => {
    const bus = new EventBus();
    expect(bus.outputWanted).toBe(false);
    const a = bus.wantOutput();
    const b = bus.wantOutput();
    a();
    a();
    expect(bus.outputWanted).toBe(true);
    b();
    expect(bus.outputWanted).toBe(false);
  });
});
