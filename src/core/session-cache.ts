import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import type { Snapshot } from './snapshot';

/**
 * The snapshot cache (contract R2, design §5): generation keys, single-flight, explicit TTL, and
 * refresh-ahead: a hit older than half the TTL starts one background refresh, so steady readers
 * never wait for tmux. A write bumps the generation before it answers, so a fetch begun before the
 * write lands in a dead key and can never put the pre-write list back.
 */
@Injectable()
export class SessionCache {
  private readonly logger = new Logger('SessionCache');
  private generation = 0;
  private readonly inflight = new Map<number, { p: Promise<Snapshot>; startedAt: number }>();
  /** The newest snapshot of the current generation, kept past the TTL for {@link peek}. */
  private last?: { gen: number; snap: Snapshot; startedAt: number };
  /** Lookups answered from the cache or not (a miss waits for tmux); metrics read these. */
  readonly lookups = { hit: 0, miss: 0 };

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
  ) {}

  async get(fetch: () => Promise<Snapshot>): Promise<Snapshot> {
    const gen = this.generation;
    const ttl = this.cfg.cacheTtlMs;
    if (ttl > 0) {
      const hit = await this.cache.get<Snapshot>(this.key(gen));
      if (hit) {
        if (Date.now() - hit.takenAt > ttl / 2 && !this.inflight.has(gen)) {
          this.fetchOnce(gen, fetch).catch((e) =>
            this.logger.warn(`background refresh failed: ${String(e)}`),
          );
        }
        this.lookups.hit++;
        return hit;
      }
    }
    this.lookups.miss++;
    return this.fetchOnce(gen, fetch);
  }

  /**
   * The newest snapshot of the current generation if it is at most `maxAgeMs` old, without starting
   * a refresh. For callers that re-read what they act on anyway (a message re-reads its session under
   * the lock): at 200 sessions a refresh is a 200-300 ms `list-panes -a` in the same single-threaded
   * tmux server, and one started by the message itself delayed every message it overlapped.
   */
  peek(maxAgeMs: number): Snapshot | undefined {
    const l = this.last;
    return l && l.gen === this.generation && Date.now() - l.snap.takenAt <= maxAgeMs
      ? l.snap
      : undefined;
  }

  /** Called by every write before it answers (read-your-writes). */
  invalidate(): void {
    // Drop the dead generation now: the memory store only evicts expired keys when they are read again.
    void this.cache.del(this.key(this.generation));
    this.generation++;
  }

  private key(gen: number): string {
    return `sessions:v1:g${gen}`;
  }

  /**
   * Joins a fetch of this generation begun at most a TTL ago (R2: a read then reflects every change
   * older than the TTL; with TTL 0, one begun at most 1 ms ago, so reads arriving together still
   * share a listing), else begins one. Of two fetches the later begun is kept, whichever ends last.
   */
  private fetchOnce(gen: number, fetch: () => Promise<Snapshot>): Promise<Snapshot> {
    const running = this.inflight.get(gen);
    if (running && Date.now() - running.startedAt <= Math.max(this.cfg.cacheTtlMs, 1))
      return running.p;
    const startedAt = Date.now();
    const p = fetch()
      .then(async (snap) => {
        const newer = !this.last || this.last.gen !== gen || this.last.startedAt <= startedAt;
        if (this.cfg.cacheTtlMs > 0 && gen === this.generation && newer) {
          this.last = { gen, snap, startedAt };
          await this.cache.set(this.key(gen), snap, this.cfg.cacheTtlMs);
        }
        return snap;
      })
      .finally(() => {
        if (this.inflight.get(gen)?.p === p) this.inflight.delete(gen);
      });
    this.inflight.set(gen, { p, startedAt });
    return p;
  }
}
