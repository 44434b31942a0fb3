import { EventBus, type BusEvent } from '../event-bus';
import type { CaptureService, CapturedOutput } from './capture.service';
import { OUTPUT_EVERY_MS, OUTPUT_MAX_BYTES, OutputFeed, PENDING_CAP } from './output-feed';

type Out = { sessionId: string; agentId: string; from: number; next: number; data: string };

/** A feed on a real bus, fed by hand as the capture would; fake timers. */
const make = () => {
  jest.useFakeTimers({ now: 1_000_000 });
  const bus = new EventBus();
  let fn: (o: CapturedOutput) => void = () => undefined;
  const capture = { onOutput: (f: typeof fn) => ((fn = f), () => undefined) };
  const feed = new OutputFeed(capture as unknown as CaptureService, bus);
  feed.onModuleInit();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const ends = new Map<string, number>();
  const print = (agentId: string, bytes: Buffer | string) => {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
    const from = ends.get(agentId) ?? 0;
    ends.set(agentId, from + b.length);
    fn({ sessionId: 's1', agentId, from, bytes: b });
  };
  const outputs = (agentId?: string) =>
    events
      .filter((e) => e.type === 'output')
      .map((e) => JSON.parse(e.frame.split('data: ')[1]) as Out)
      .filter((o) => !agentId || o.agentId === agentId);
  return { bus, feed, events, print, outputs, ends };
};

describe(OutputFeed.name, () => {
  afterEach(() => jest.useRealTimers());

  it('nothing is published while no stream wants output', () => {
    const { print, events } = make();
    print('10', 'hello');
    jest.advanceTimersByTime(200);
    expect(events).toEqual([]);
  });

  it('coalescing: many small writes make at most one event per agent every 50 ms, contiguous', () => {
    const { bus, print, outputs } = make();
    bus.wantOutput();
    const times: number[] = [];
    bus.subscribe((e) => e.type === 'output' && times.push(Date.now()));
    let sent = '';
    for (let i = 0; i < 500; i++) {
      const s = `line ${i}\r\n`;
      sent += s;
      print('10', s);
      print('11', 'x');
      jest.advanceTimersByTime(1);
    }
    jest.advanceTimersByTime(500);
    const ten = outputs('10');
    expect(ten.map((o) => o.data).join('')).toBe(sent);
    expect(ten[0].from).toBe(0);
    for (let i = 1; i < ten.length; i++) expect(ten[i].from).toBe(ten[i - 1].next);
    expect(ten.length).toBeLessThanOrEqual(Math.ceil(500 / OUTPUT_EVERY_MS) + 1);
    // per agent, events at least 50 ms apart
    const tenTimes = times.filter((_, i) => outputs()[i].agentId === '10');
    for (let i = 1; i < tenTimes.length; i++)
      expect(tenTimes[i] - tenTimes[i - 1]).toBeGreaterThanOrEqual(OUTPUT_EVERY_MS);
    expect(
      outputs('11')
        .map((o) => o.data)
        .join(''),
    ).toBe('x'.repeat(500));
  });

  it('at most 16 KiB of file bytes per event; the rest follows in the next slots', () => {
    const { bus, print, outputs } = make();
    bus.wantOutput();
    const big = Buffer.from('é'.repeat(20_000)); // 40,000 bytes of 2-byte characters
    print('10', big);
    jest.advanceTimersByTime(OUTPUT_EVERY_MS * 4);
    const o = outputs('10');
    expect(o.length).toBe(3);
    for (const e of o) expect(e.next - e.from).toBeLessThanOrEqual(OUTPUT_MAX_BYTES);
    expect(o.map((e) => e.data).join('')).toBe('é'.repeat(20_000));
    expect(o.at(-1)!.next).toBe(big.length);
  });

  it('a character split across writes is never split across events', () => {
    const { bus, print, outputs } = make();
    bus.wantOutput();
    print('10', Buffer.from([0x61, 0xe2]));
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    expect(outputs('10')).toEqual([
      { sessionId: 's1', agentId: '10', from: 0, next: 1, data: 'a' },
    ]);
    print('10', Buffer.from([0x82]));
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    print('10', Buffer.from([0xac, 0x62]));
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    expect(outputs('10').slice(1)).toEqual([
      { sessionId: 's1', agentId: '10', from: 1, next: 5, data: '€b' },
    ]);
  });

  it('A14b-1: an incomplete character waits for its last byte however long it takes, never U+FFFD', () => {
    const { bus, print, outputs } = make();
    bus.wantOutput();
    print('10', Buffer.from([0x61, 0xe2, 0x82]));
    jest.advanceTimersByTime(10_000);
    print('10', Buffer.from([0xac, 0x62]));
    jest.advanceTimersByTime(2 * OUTPUT_EVERY_MS);
    expect(outputs('10').map((o) => [o.data, o.from, o.next])).toEqual([
      ['a', 0, 1],
      ['€b', 1, 5],
    ]);
  });

  it('A14b-2: a feed that begins inside a character starts after it, even when its end comes in a later chunk', () => {
    const { bus, print, outputs } = make();
    print('10', Buffer.from([0x58, 0xe2])); // nobody wants output yet
    bus.wantOutput();
    print('10', Buffer.from([0x82]));
    print('10', Buffer.from([0xac, 0x59]));
    jest.advanceTimersByTime(2 * OUTPUT_EVERY_MS);
    expect(outputs('10').map((o) => [o.data, o.from, o.next])).toEqual([['Y', 4, 5]]);
  });

  it('A14b-3: stray continuation bytes are characters of their own: a feed beginning among them starts there', () => {
    const { bus, print, outputs } = make();
    print('10', Buffer.from([0x41, 0x80, 0x80]));
    bus.wantOutput();
    print('10', Buffer.from([0x80, 0x42]));
    jest.advanceTimersByTime(2 * OUTPUT_EVERY_MS);
    expect(outputs('10').map((o) => [o.data, o.from, o.next])).toEqual([['\ufffdB', 3, 5]]);
  });

  it('publishing that starts mid-stream starts at the current offset; a resume gets the bytes no event carried as one gap', () => {
    const { bus, print, outputs, events } = make();
    const release = bus.wantOutput();
    print('10', 'first');
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    const mark = events.at(-1)!; // the last event the client got before it left
    release();
    print('10', 'un'); // no stream wants output: not published
    print('10', 'seen');
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    const resumed = bus.resume(`${bus.epoch}-${mark.seq}`); // the client comes back
    bus.wantOutput();
    print('10', 'again');
    jest.advanceTimersByTime(OUTPUT_EVERY_MS);
    expect(outputs('10').map((o) => [o.data, o.from, o.next])).toEqual([
      ['first', 0, 5],
      ['again', 11, 16],
    ]);
    const gaps = 'events' in resumed ? resumed.events.filter((e) => e.type === 'gap') : [];
    expect(gaps.map((e) => e.output)).toEqual([
      { sessionId: 's1', agentId: '10', from: 5, next: 11 },
    ]);
    // nobody else is told: a stream that was not there has nothing to continue
    expect(events.filter((e) => e.type === 'gap')).toEqual([]);
  });

  it('an agent printing faster than events can carry: the excess is skipped with a live gap, from continuity kept', () => {
    const { bus, print, outputs, events } = make();
    bus.wantOutput();
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < PENDING_CAP / chunk.length + 1; i++) print('10', chunk);
    print('10', 'tail');
    jest.advanceTimersByTime(OUTPUT_EVERY_MS * 2);
    const gap = events.find((e) => e.type === 'gap')!;
    const g = JSON.parse(gap.frame.split('data: ')[1]);
    expect(g).toMatchObject({ reason: 'slow_consumer', agentId: '10', from: 0 });
    const o = outputs('10');
    expect(o[0].from).toBe(g.next);
    expect(o.map((e) => e.data).join('')).toBe('tail');
    expect(bus.dropped.get('slow_consumer')).toBe(1); // counted in mas_events_dropped_total (§10.5)
  });

  it('A14b-4: a skip ends on a character boundary: the event after the gap starts with a whole character', () => {
    const { bus, print, outputs, events } = make();
    bus.wantOutput();
    const chunk = Buffer.concat([Buffer.alloc(64 * 1024 - 1, 0x41), Buffer.from([0xe2])]);
    for (let i = 0; i < PENDING_CAP / chunk.length + 1; i++) print('10', chunk);
    print('10', Buffer.from([0x82, 0xac, 0x21]));
    jest.advanceTimersByTime(OUTPUT_EVERY_MS * 2);
    const g = JSON.parse(events.find((e) => e.type === 'gap')!.frame.split('data: ')[1]);
    const o = outputs('10');
    expect(o[0].from).toBe(g.next);
    expect(o.map((e) => e.data).join('')).toBe('€!');
  });
});
