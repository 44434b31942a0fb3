import type { ThrottlerStorage } from '@nestjs/throttler';

interface Window {
  start: number;
  ttl: number;
  hits: number;
  blockedUntil: number;
}

/** A window's state in seconds, shaped as @nestjs/throttler's ThrottlerStorageRecord. */
export interface WindowRecord {
  totalHits: number;
  timeToExpire: number;
  isBlocked: boolean;
  timeToBlockExpire: number;
}

const seconds = (ms: number) => Math.max(0, Math.ceil(ms / 1000));

/**
 * Rate-limit counters at O(1) per request: one fixed window per key (R10). @nestjs/throttler's own
 * in-memory storage (6.4) keeps a timer per hit, and every expiry filters one array holding all of
 * them. After 300k requests in a minute (the bench), the service's event loop stalled for 20-50 s
 * one minute later: a CPU profile put 14 s of self time in that filter. Idle windows are swept once
 * a minute; the sweep never keeps the process alive.
 */
export class WindowThrottlerStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();

  constructor(sweepMs = 60_000) {
    setInterval(() => this.evict(Date.now()), sweepMs).unref();
  }

  get size(): number {
    return this.windows.size;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<WindowRecord> {
    return this.hit(key, ttl, limit, throttlerName, blockDuration);
  }

  /** The same count, synchronously: the request hook decides before Fastify routes on. */
  hit(
    key: string,
    ttl: number,
    limit: number,
    throttlerName: string,
    blockDuration = 0,
  ): WindowRecord {
    const now = Date.now();
    const id = `${throttlerName}\u0000${key}`;
    let w = this.windows.get(id);
    if (!w || (now - w.start >= w.ttl && now >= w.blockedUntil)) {
      w = { start: now, ttl, hits: 0, blockedUntil: 0 };
      this.windows.set(id, w);
    }
    if (now >= w.blockedUntil) {
      w.hits++;
      if (w.hits > limit)
        w.blockedUntil = now + (blockDuration > 0 ? blockDuration : w.start + w.ttl - now);
    }
    const isBlocked = now < w.blockedUntil;
    return {
      totalHits: w.hits,
      timeToExpire: seconds(w.start + w.ttl - now),
      isBlocked,
      timeToBlockExpire: isBlocked ? seconds(w.blockedUntil - now) : 0,
    };
  }

  private evict(now: number): void {
    for (const [id, w] of this.windows)
      if (now - w.start >= w.ttl && now >= w.blockedUntil) this.windows.delete(id);
  }
}
