import type { FastifyRequest } from 'fastify';
import type { MasConfig } from '../config/mas-config';
import { WindowThrottlerStorage } from './window-throttler-storage';

export type Budget = 'runs' | 'message' | 'lifecycle' | 'observe' | 'other';

const WINDOW_MS = 60_000;

/**
 * Budgets by the route that matched (A7): its template, after the router decoded the path, so
 * `POST /run%73` is a `runs` request and stop and restore share one `lifecycle` bucket. Anything
 * not listed, unmatched routes included, is `other`.
 */
const ROUTE_BUDGETS: Record<string, Budget> = {
  'POST /runs': 'runs',
  'POST /message': 'message',
  ...Object.fromEntries(
    ['sessions', 'session'].flatMap((p) => [
      [`POST /${p}/:sessionId/stop`, 'lifecycle'],
      [`POST /${p}/:sessionId/restore`, 'lifecycle'],
      [`GET /${p}/:sessionId/agents/:agentId/screen`, 'observe'],
      [`GET /${p}/:sessionId/agents/:agentId/output`, 'observe'],
    ]),
  ),
};

/** R10: liveness, the web UI's probe and readiness never spend a budget (preflights neither). */
const EXEMPT = new Set([
  'HEAD /',
  'GET /health',
  'HEAD /health',
  'GET /health/ready',
  'HEAD /health/ready',
]);

/** `METHOD /template` of the matched route, or undefined when nothing matched (a 404). */
export function routeKey(req: Pick<FastifyRequest, 'method' | 'routeOptions'>): string | undefined {
  const url = req.routeOptions?.url;
  return url === undefined ? undefined : `${req.method} ${url}`;
}

export function budgetOf(
  req: Pick<FastifyRequest, 'method' | 'routeOptions'>,
  matched = true,
): Budget | 'exempt' {
  if (req.method === 'OPTIONS') return 'exempt';
  const key = matched ? routeKey(req) : undefined;
  if (key === undefined) return 'other';
  if (EXEMPT.has(key)) return 'exempt';
  return ROUTE_BUDGETS[key] ?? 'other';
}

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
