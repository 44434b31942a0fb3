import { createHash, timingSafeEqual } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopback } from '../config/parse-env';
import type { MasConfig } from '../config/mas-config';
import { sendError } from '../errors/domain-exception.filter';
import { RequestRejectedError } from '../errors/mas-error';

const logger = new Logger('HTTP');
const digest = (s: string) => createHash('sha256').update(s).digest();
export const pathOf = (url: string) => url.split('?', 1)[0];

/**
 * Fastify hooks around every route (404s included): standard headers and the request id (§2.2),
 * CORS allow-list, DNS-rebinding guard and optional bearer token (§2.3), an empty body as {},
 * and one log line per request with its duration (R11).
 */
export function registerRequestHooks(f: FastifyInstance, cfg: MasConfig): void {
  const guard = guardOf(cfg);
  f.addHook('onRequest', (req, reply, done) => {
    reply.headers({
      'x-request-id': req.id, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer',
    });
    if (guard(req, reply)) done();
  });
  // Bodiless POSTs skip the parser; handlers always see an object.
  f.addHook('preValidation', (req, _reply, done) => {
    if (req.body === undefined || req.body === null) req.body = {};
    done();
  });
  f.addHook('onResponse', (req, reply, done) => {
    logger.log(`${req.method} ${pathOf(req.url)} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms id=${req.id}`);
    done();
  });
}

/** True when the request may go on; otherwise it has been answered. */
function guardOf(cfg: MasConfig) {
  const exactHosts = new Set(['localhost', '127.0.0.1', '[::1]', ...cfg.allowedHosts.map((h) => h.toLowerCase())]);
  const tokenDigest = cfg.token ? digest(cfg.token) : undefined;
  const loopback = isLoopback(cfg.host);
  return (req: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (cfg.corsOrigins === '*' || cfg.corsOrigins.includes(origin));
    if (loopback) {
      const host = String(req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
      if (!exactHosts.has(host)) return refuse(reply, new RequestRejectedError('HOST_NOT_ALLOWED', 'Host header is not allowed'));
    }
    if (allowed) {
      reply.header('access-control-allow-origin', cfg.corsOrigins === '*' ? '*' : origin);
      reply.header('vary', 'Origin');
      reply.header('access-control-expose-headers', 'Retry-After, X-Request-Id, Idempotency-Replayed');
    }
    if (req.method === 'OPTIONS') {
      if (!allowed) return refuse(reply, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
      reply.header('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS');
      reply.header('access-control-allow-headers', 'Content-Type, Idempotency-Key, Authorization, X-Request-Id');
      reply.header('access-control-max-age', '600');
      reply.code(204).send();
      return false;
    }
    if (req.method === 'POST' && origin !== undefined && !allowed) return refuse(reply, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
    if (tokenDigest && !isPublic(req)) {
      const auth = String(req.headers.authorization ?? '');
      const given = auth.startsWith('Bearer ') ? digest(auth.slice(7)) : undefined;
      if (!given || !timingSafeEqual(given, tokenDigest)) return refuse(reply, new RequestRejectedError('UNAUTHORIZED', 'A valid bearer token is required'));
    }
    return true;
  };
}

function refuse(reply: FastifyReply, err: RequestRejectedError): false {
  sendError(reply, err);
  return false;
}

function isPublic(req: FastifyRequest): boolean {
  const p = pathOf(req.url).replace(/\/$/, '') || '/';
  if (p === '/') return req.method === 'GET' || req.method === 'HEAD';
  return p === '/health' || p === '/health/ready';
}
