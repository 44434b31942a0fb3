import { WindowThrottlerStorage } from './window-throttler-storage';

describe(WindowThrottlerStorage.name, () => {
  afterEach(() => jest.useRealTimers());

  it('counts per key and throttler, blocks past the limit for the block duration, then starts a new window', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const sut = new WindowThrottlerStorage();
    for (let i = 1; i <= 3; i++)
      expect(await sut.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({
        totalHits: i,
        isBlocked: false,
        timeToExpire: 60,
      });
    expect((await sut.increment('b', 60_000, 3, 60_000, 'default')).totalHits).toBe(1); // another client
    expect((await sut.increment('a', 60_000, 3, 60_000, 'other')).totalHits).toBe(1); // another throttler
    jest.setSystemTime(1_010_000);
    expect(await sut.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({
      totalHits: 4,
      isBlocked: true,
      timeToBlockExpire: 60,
    });
    jest.setSystemTime(1_040_000);
    expect(await sut.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    jest.setSystemTime(1_070_000);
    expect(await sut.increment('a', 60_000, 3, 60_000, 'default')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('keeps one record per key however many hits, and sweeps idle ones', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const sut = new WindowThrottlerStorage(60_000);
    for (let i = 0; i < 100_000; i++)
      await sut.increment('hot', 60_000, 1_000_000, 60_000, 'default');
    await sut.increment('cold', 60_000, 10, 60_000, 'default');
    expect(sut.size).toBe(2);
    jest.advanceTimersByTime(61_000); // both windows are over: the sweep drops them
    expect(sut.size).toBe(0);
  });
});
