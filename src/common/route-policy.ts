import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants';
import { ApiExtension } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';

/** The per-minute buckets of R10 and A7; `exempt` routes never spend one. */
export type Budget = 'runs' | 'message' | 'lifecycle' | 'observe' | 'other';

/** What a route declares about itself, once, beside its handler. */
export interface RoutePolicy {
  /** Served without the bearer token (§2.3). */
  public?: boolean;
  /** Its rate budget; absent means `other`. */
  budget?: Budget | 'exempt';
  /** The budget of its HEAD twin when it differs (HEAD / is the web UI's probe, R10). */
  headBudget?: Budget | 'exempt';
  /** A GET refused like a POST when its `Origin` is not allowed (A18: `/events`). */
  strictOrigin?: boolean;
}

const KEY = 'masPolicy';

declare module 'fastify' {
  interface FastifyContextConfig {
    masPolicy?: RoutePolicy;
  }
}

/**
 * Stores the policy in the route's Fastify `config`, where the early onRequest hook reads it
 * before any body is parsed. A Nest guard would run after routing and body parsing, so 404, 413
 * and 415 answers would skip it (A13). Several decorators on one handler merge.
 */
function policy(p: RoutePolicy): MethodDecorator {
  return (target, key, descriptor) => {
    // the OpenAPI document reads the same declaration (security, 401 and 429: src/openapi.ts)
    for (const [k, v] of Object.entries(p)) ApiExtension(`x-mas-${k}`, v)(target, key, descriptor);
    const handler = descriptor.value as object;
    const config = (Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) ?? {}) as Record<
      string,
      RoutePolicy
    >;
    const merged = { ...config, [KEY]: { ...config[KEY], ...p } };
    Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, merged, handler);
  };
}

/** Open without the token (§2.3): the identity page, liveness and readiness only. */
export const Public = (): MethodDecorator => policy({ public: true });

/** The rate budget the route spends (R10, A7); stop and restore share `lifecycle`. */
export const RateBudget = (
  budget: Budget | 'exempt',
  opts: { head?: Budget | 'exempt' } = {},
): MethodDecorator => policy({ budget, ...(opts.head ? { headBudget: opts.head } : {}) });

/** A18: a disallowed `Origin` is refused with 403 before the route does anything (`/events`). */
export const StrictOrigin = (): MethodDecorator => policy({ strictOrigin: true });

/** The policy of the route that matched; undefined for unmatched requests and foreign routes. */
export function policyOf(req: Pick<FastifyRequest, 'routeOptions'>): RoutePolicy | undefined {
  return req.routeOptions?.config?.masPolicy;
}

/** The bucket a request spends: by the matched route's policy, `other` when nothing matched. */
export function budgetOf(
  req: Pick<FastifyRequest, 'method' | 'routeOptions'>,
  matched = true,
): Budget | 'exempt' {
  if (req.method === 'OPTIONS') return 'exempt';
  const p = matched ? policyOf(req) : undefined;
  if (req.method === 'HEAD' && p?.headBudget) return p.headBudget;
  return p?.budget ?? 'other';
}
