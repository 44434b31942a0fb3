import { createCache } from 'cache-manager';
import type { MasConfig } from '../config/mas-config';
import { SessionCache } from './session-cache';
import type { Snapshot } from './snapshot';

const snap = (n: number): Snapshot => ({ sessions: [], tmuxNames: new Set(), takenAt: n });
const deferred = () => {
  let resolve!: (s: Snapshot) => void;
  const promise = new Promise<Snapshot>((r) => (resolve = r));
  return { promise, resolve };
};

describe(SessionCache.name, () => {
  const make = (ttl: number) =>
    new SessionCache(createCache() as never, { cacheTtlMs: ttl } as MasConfig);

  it('single-flight: 100 concurrent reads share one fetch, with or without TTL', async () => {
    for (const ttl of [0, 2000]) {
      const sut = make(ttl);
      const d = deferred();
      let fetches = 0;
      const all = Array.from({ length: 100 }, () => sut.get(() => (fetches++, d.promise)));
      d.resolve(snap(1));
      await Promise.all(all);
      expect(fetches).toBe(1);
    }
  });

  it('a write during a slow fetch is visible to the next read (generation keys)', async () => {
    const sut = make(2000);
    const slow = deferred();
    const first = sut.get(() => slow.promise);
    sut.invalidate(); // a write lands while the fetch is in flight
    slow.resolve(snap(1)); // the pre-write listing
    expect((await first).takenAt).toBe(1);
    const next = await sut.get(async () => snap(2));
    expect(next.takenAt).toBe(2);
  });

  it('R2: a read joins a fetch begun within the TTL, never an older one; the later-begun result is kept', async () => {
    let now = 10_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      // TTL 0: a fetch begun 2 ms before the read (before a change, say) is not its answer
      const off = make(0);
      const early = deferred();
      let fetches = 0;
      const first = off.get(() => (fetches++, early.promise));
      now = 10_002;
      expect((await off.get(async () => (fetches++, snap(2)))).takenAt).toBe(2);
      expect(fetches).toBe(2);
      early.resolve(snap(1));
      await first;
      // TTL 2 s: joined at 1.5 s, not at 2.5 s; the fetch begun later wins though it ends first
      const on = make(2000);
      const slow = deferred();
      let n = 0;
      // each read reaches the fetch after its cache lookup: let it get there before the clock moves
      const settle = () => new Promise((r) => setImmediate(r));
      const a = on.get(() => (n++, slow.promise));
      await settle();
      now = 11_501;
      const joined = on.get(async () => (n++, snap(5)));
      await settle();
      now = 12_501;
      const fresh = await on.get(async () => (n++, snap(7)));
      expect(fresh.takenAt).toBe(7);
      expect(n).toBe(2);
      slow.resolve(snap(6));
      expect((await a).takenAt).toBe(6);
      expect((await joined).takenAt).toBe(6);
      expect((await on.get(async () => snap(8))).takenAt).toBe(7);
    } finally {
      clock.mockRestore();
    }
  });

  it('serves from the cache within the TTL and refetches with TTL 0', async () => {
    const cached = make(2000);
    await cached.get(async () => snap(1));
    expect((await cached.get(async () => snap(2))).takenAt).toBe(1);
    const off = make(0);
    await off.get(async () => snap(1));
    expect((await off.get(async () => snap(2))).takenAt).toBe(2);
  });
});

describe(`${SessionCache.name} refresh-ahead`, () => {
  it('serves a half-expired hit at once and refreshes it in the background, once', async () => {
    const sut = new SessionCache(createCache() as never, { cacheTtlMs: 1000 } as MasConfig);
    await sut.get(async () => snap(Date.now() - 600));
    const slow = deferred();
    let fetches = 0;
    const a = await sut.get(() => (fetches++, slow.promise));
    const b = await sut.get(() => (fetches++, slow.promise));
    expect(fetches).toBe(1); // one refresh for both readers, neither waited for it
    expect(a).toBe(b);
    slow.resolve(snap(Date.now()));
    await new Promise((r) => setImmediate(r));
    expect((await sut.get(async () => snap(0))).takenAt).toBeGreaterThan(a.takenAt);
  });

  it('peek: the newest snapshot of this generation within the age asked, even past the TTL; nothing after a write', async () => {
    const sut = new SessionCache(createCache() as never, { cacheTtlMs: 2000 } as MasConfig);
    expect(sut.peek(30_000)).toBeUndefined();
    const now = Date.now();
    await sut.get(async () => snap(now - 10_000)); // taken 10 s ago: past the TTL
    expect(sut.peek(30_000)?.takenAt).toBe(now - 10_000);
    expect(sut.peek(5_000)).toBeUndefined();
    sut.invalidate();
    expect(sut.peek(30_000)).toBeUndefined();
    await sut.get(async () => snap(Date.now()));
    expect(sut.peek(30_000)).toBeDefined();
  });
});
