import type { MasConfig } from '../config/mas-config';
import type { Budget } from './route-policy';
import { WindowThrottlerStorage } from './window-throttler-storage';

const WINDOW_MS = 60_000;

/**
 * Per-client request counters, one fixed window of a minute per client and budget (R10, A7).
 * The client is the remote address; a request counts whatever its answer turns out to be.
 */
export class RateLimiter {
  private readonly store = new WindowThrottlerStorage();

  constructor(private readonly limits: MasConfig['rateLimits']) {}

  /** Counts one request: 0 when within budget, else the whole seconds until the window frees (1-60). */
  hit(client: string, budget: Budget): number {
    const r = this.store.hit(client, WINDOW_MS, this.limits[budget], budget);
    return r.isBlocked ? Math.min(60, Math.max(1, r.timeToBlockExpire)) : 0;
  }
}
