import type { ExecutionContext } from '@nestjs/common';
import type { ThrottlerModuleOptions } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { MasConfig } from '../config/mas-config';
import { pathOf } from './request-hooks';
import { WindowThrottlerStorage } from './window-throttler-storage';

/** Which budget a request draws from (contract R10). */
export function budgetOf(req: Pick<FastifyRequest, 'method' | 'url'>): 'runs' | 'message' | 'lifecycle' | 'other' | 'exempt' {
  const p = pathOf(req.url).replace(/\/$/, '') || '/';
  if (req.method === 'OPTIONS' || p === '/health' || p === '/health/ready' || (p === '/' && req.method === 'HEAD')) return 'exempt';
  if (req.method === 'POST' && p === '/runs') return 'runs';
  if (req.method === 'POST' && p === '/message') return 'message';
  if (req.method === 'POST' && /^\/sessions?\/[^/]+\/(stop|restore)$/.test(p)) return 'lifecycle';
  return 'other';
}

/** Per-client limits per minute, one throttler whose limit depends on the route (R10). */
export function throttlerOptions(cfg: MasConfig): ThrottlerModuleOptions {
  const req = (ctx: ExecutionContext) => ctx.switchToHttp().getRequest<FastifyRequest>();
  return {
    storage: new WindowThrottlerStorage(),
    throttlers: [
      {
        name: 'default',
        ttl: 60_000,
        limit: (ctx: ExecutionContext) => {
          const b = budgetOf(req(ctx));
          return b === 'exempt' ? Number.MAX_SAFE_INTEGER : cfg.rateLimits[b];
        },
        skipIf: (ctx: ExecutionContext) => budgetOf(req(ctx)) === 'exempt',
        // one bucket per client and budget, so reads never eat the write budget
        getTracker: (r: Record<string, unknown>) => `${String(r.ip)}:${budgetOf(r as unknown as FastifyRequest)}`,
      },
    ],
  };
}
