import { createHash, timingSafeEqual } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopback } from '../config/parse-env';
import type { MasConfig } from '../config/mas-config';
import { sendError } from '../errors/domain-exception.filter';
import { type MasError, RequestRejectedError, ValidationError } from '../errors/mas-error';
import { RateLimiter } from './rate-limits';
import { budgetOf, policyOf } from './route-policy';
import { sessionIdIssues } from '../core/session-ref.pipe';
import { queryKeyIssues } from './input';

const logger = new Logger('HTTP');
const digest = (s: string) => createHash('sha256').update(s).digest();
export const pathOf = (url: string) => url.split('?', 1)[0];

const BEARER = /^bearer +(.+)$/i;

/** Requests that carried the valid token, or any request when no token is configured (A8). */
const trusted = new WeakSet<object>();
export const isTrusted = (req: FastifyRequest): boolean => trusted.has(req.raw);

/** Told once per answer, the bad-URL path's included (metrics); per app, in registration order. */
export type AnswerListener = (req: FastifyRequest, reply: FastifyReply) => void;
const listeners = new WeakMap<FastifyInstance, AnswerListener[]>();
export function onAnswered(f: FastifyInstance, fn: AnswerListener): void {
  listeners.set(f, [...(listeners.get(f) ?? []), fn]);
}

/** The gate of each app, for the router's bad-URL path, which runs no hooks. */
const gates = new WeakMap<FastifyInstance, Gate>();
type Gate = (req: FastifyRequest, reply: FastifyReply, matched: boolean) => boolean;

/**
 * Fastify hooks around every route (404s included): standard headers and the request id (§2.2),
 * then, in one early onRequest hook before routing's consequences and body parsing (A13): the rate
 * budget (A7), DNS-rebinding guard, CORS allow-list and optional bearer token (§2.3), empty path
 * segments (A14) and forbidden query keys (§2.2). Then an empty body as {}, and one log line per
 * request with its duration (R11).
 */
export function registerRequestHooks(f: FastifyInstance, cfg: MasConfig): void {
  const gate = gateOf(cfg);
  gates.set(f, gate);
  f.addHook('onRequest', (req, reply, done) => {
    if (gate(req, reply, true)) done();
  });
  // Bodiless POSTs skip the parser; handlers always see an object.
  f.addHook('preValidation', (req, _reply, done) => {
    if (req.body === undefined || req.body === null) req.body = {};
    done();
  });
  // §2.2: every response, the docs UI's files included (their server sets `public, max-age=0`)
  f.addHook('onSend', (_req, reply, payload, done) => {
    reply.header('cache-control', 'no-store');
    reply.removeHeader('etag');
    reply.removeHeader('last-modified');
    done(null, payload);
  });
  f.addHook('onResponse', (req, reply, done) => {
    answered(f, req, reply);
    done();
  });
}

/**
 * A path the router could not decode (`/sessions/%zz`): no route, so no hooks ran. It passes the
 * same gate as any unmatched request, then is a 400 in the envelope, logged like the rest (A13).
 */
export function answerBadUrl(req: FastifyRequest, reply: FastifyReply, message: string): void {
  const gate = gates.get(req.server);
  reply.raw.once('finish', () => answered(req.server, req, reply));
  if (gate ? gate(req, reply, false) : standardHeaders(req, reply)) {
    sendError(
      reply,
      new ValidationError([{ location: 'path', field: '', rule: 'pattern', message }]),
    );
  }
}

/**
 * A hijacked reply (an `/events` stream) skips onResponse: its route reports the answer itself
 * when the stream ends, so it gets its log line and metrics like any other.
 */
export function reportHijacked(f: FastifyInstance, req: FastifyRequest, reply: FastifyReply): void {
  answered(f, req, reply);
}

/** `f` is the app's root instance: a route's `req.server` may be a plugin's child instance. */
function answered(f: FastifyInstance, req: FastifyRequest, reply: FastifyReply): void {
  logLine(req, reply);
  for (const fn of listeners.get(f) ?? []) fn(req, reply);
}

function logLine(req: FastifyRequest, reply: FastifyReply): void {
  logger.log(
    `${req.method} ${pathOf(req.url)} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms id=${req.id}`,
  );
}

function standardHeaders(req: FastifyRequest, reply: FastifyReply): true {
  reply.headers({
    'x-request-id': req.id,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
  return true;
}

/** True when the request may go on; otherwise it has been answered. */
function gateOf(cfg: MasConfig): Gate {
  const exactHosts = new Set([
    'localhost',
    '127.0.0.1',
    '[::1]',
    ...cfg.allowedHosts.map((h) => h.toLowerCase()),
  ]);
  const tokenDigest = cfg.token ? digest(cfg.token) : undefined;
  const loopback = isLoopback(cfg.host);
  const limiter = new RateLimiter(cfg.rateLimits);
  return (req, reply, matched) => {
    standardHeaders(req, reply);
    const emptySegment = hasEmptySegment(req.url);
    const routed = matched && !emptySegment && req.routeOptions?.url !== undefined;
    const budget = budgetOf(req, routed);
    // counted before anything can refuse it: a 400, 401 or 404 still spends the budget (A7)
    const wait = budget === 'exempt' ? 0 : limiter.hit(req.ip, budget);
    const origin = req.headers.origin;
    const allowed =
      origin !== undefined && (cfg.corsOrigins === '*' || cfg.corsOrigins.includes(origin));
    if (loopback) {
      const host = String(req.headers.host ?? '')
        .toLowerCase()
        .replace(/:\d+$/, '');
      if (!exactHosts.has(host))
        return refuse(
          reply,
          new RequestRejectedError('HOST_NOT_ALLOWED', 'Host header is not allowed'),
        );
    }
    if (allowed) {
      reply.header('access-control-allow-origin', cfg.corsOrigins === '*' ? '*' : origin);
      reply.header('vary', 'Origin');
      reply.header(
        'access-control-expose-headers',
        'Retry-After, X-Request-Id, Idempotency-Replayed',
      );
    }
    if (req.method === 'OPTIONS') return preflight(reply, allowed);
    if (wait > 0)
      return refuse(
        reply,
        new RequestRejectedError('RATE_LIMITED', 'Too many requests', undefined, wait),
      );
    const strict = req.method === 'POST' || (routed && policyOf(req)?.strictOrigin);
    if (strict && origin !== undefined && !allowed)
      return refuse(reply, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
    const tokenOk = !tokenDigest || validToken(req.headers.authorization, tokenDigest);
    if (tokenOk) trusted.add(req.raw);
    else if (!(routed && policyOf(req)?.public))
      return refuse(
        reply,
        new RequestRejectedError('UNAUTHORIZED', 'A valid bearer token is required'),
      );
    if (emptySegment)
      return refuse(reply, new RequestRejectedError('ROUTE_NOT_FOUND', 'No such route'));
    // unmatched routes stay 404s; a matched one never sees a prototype key or bracket syntax
    const issues =
      routed && req.url.includes('?')
        ? queryKeyIssues((req.query ?? {}) as Record<string, unknown>)
        : [];
    if (!issues.length) return true;
    // refused before the pipes run, so the path's reference is judged here too (§3.3: every problem)
    const { sessionId } = (req.params ?? {}) as { sessionId?: unknown };
    const path = sessionId === undefined ? [] : sessionIdIssues(sessionId);
    return refuse(reply, new ValidationError([...path, ...issues]));
  };
}

function preflight(reply: FastifyReply, allowed: boolean): false {
  if (!allowed)
    return refuse(reply, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
  reply.header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS');
  reply.header(
    'access-control-allow-headers',
    'Content-Type, Idempotency-Key, Authorization, X-Request-Id, Last-Event-ID', // A18
  );
  reply.header('access-control-max-age', '600');
  reply.code(204).send();
  return false;
}

/** The scheme name is case-insensitive (A8); the token is compared in constant time. */
function validToken(header: string | undefined, tokenDigest: Buffer): boolean {
  const m = BEARER.exec(header ?? '');
  return m !== null && timingSafeEqual(digest(m[1]), tokenDigest);
}

/** `/sessions//stop`: the router would match it with an empty id; §2.1 says it matches nothing. */
export function hasEmptySegment(url: string): boolean {
  const p = pathOf(url).replace(/\/$/, '');
  return p !== '' && p.slice(1).split('/').includes('');
}

function refuse(reply: FastifyReply, err: MasError): false {
  sendError(reply, err);
  return false;
}
