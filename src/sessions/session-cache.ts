import { CACHE_MANAGER } from '@nestjs/cache-manager';
import { Inject, Injectable } from '@nestjs/common';
import type { Cache } from 'cache-manager';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import type { Snapshot } from './snapshot';

/**
 * The snapshot cache (contract R2, design §5): generation keys, single-flight, explicit TTL.
 * A write bumps the generation before it answers, so a fetch begun before the write lands in a
 * dead key and can never put the pre-write list back.
 */
@Injectable()
export class SessionCache {
  private generation = 0;
  private readonly inflight = new Map<number, Promise<Snapshot>>();

  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: Cache,
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
  ) {}

  async get(fetch: () => Promise<Snapshot>): Promise<Snapshot> {
    const gen = this.generation;
    const key = `sessions:v1:g${gen}`;
    if (this.cfg.cacheTtlMs > 0) {
      const hit = await this.cache.get<Snapshot>(key);
      if (hit) return hit;
    }
    let p = this.inflight.get(gen);
    if (!p) {
      p = fetch()
        .then(async (snap) => {
          if (this.cfg.cacheTtlMs > 0 && gen === this.generation) await this.cache.set(key, snap, this.cfg.cacheTtlMs);
          return snap;
        })
        .finally(() => this.inflight.delete(gen));
      this.inflight.set(gen, p);
    }
    return p;
  }

  /** Called by every write before it answers (read-your-writes). */
  invalidate(): void {
    // Drop the dead generation now: the memory store only evicts expired keys when they are read again.
    void this.cache.del(`sessions:v1:g${this.generation}`);
    this.generation++;
  }
}
