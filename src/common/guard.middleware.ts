import { randomUUID, timingSafeEqual, createHash } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { isLoopback } from '../config/parse-env';
import type { MasConfig } from '../config/mas-config';
import { sendError } from '../errors/domain-exception.filter';
import { RequestRejectedError } from '../errors/mas-error';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const logger = new Logger('HTTP');

/** Headers on every response, request id, and one log line per request (§2.2, R11). */
export function requestMiddleware(req: Request, res: Response, next: NextFunction): void {
  const started = process.hrtime.bigint();
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.on('finish', () => {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    logger.log(`${req.method} ${req.path} ${res.statusCode} ${ms.toFixed(1)}ms id=${id}`);
  });
  next();
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** CORS allow-list, DNS-rebinding guard and optional bearer token (contract §2.3). */
export function guardMiddleware(cfg: MasConfig) {
  const exactHosts = new Set(['localhost', '127.0.0.1', '[::1]', ...cfg.allowedHosts.map((h) => h.toLowerCase())]);
  const tokenDigest = cfg.token ? digest(cfg.token) : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && (cfg.corsOrigins === '*' || cfg.corsOrigins.includes(origin));
    if (isLoopback(cfg.host)) {
      const host = String(req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
      if (!exactHosts.has(host)) return sendError(res, new RequestRejectedError('HOST_NOT_ALLOWED', 'Host header is not allowed'));
    }
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', cfg.corsOrigins === '*' ? '*' : origin!);
      res.setHeader('Vary', 'Origin');
      res.setHeader('Access-Control-Expose-Headers', 'Retry-After, X-Request-Id, Idempotency-Replayed');
    }
    if (req.method === 'OPTIONS') {
      if (!allowed) return sendError(res, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Idempotency-Key, Authorization, X-Request-Id');
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    if (req.method === 'POST' && origin !== undefined && !allowed) return sendError(res, new RequestRejectedError('ORIGIN_NOT_ALLOWED', 'Origin is not allowed'));
    if (tokenDigest && !isPublic(req)) {
      const auth = String(req.headers.authorization ?? '');
      const given = auth.startsWith('Bearer ') ? digest(auth.slice(7)) : undefined;
      if (!given || !timingSafeEqual(given, tokenDigest)) return sendError(res, new RequestRejectedError('UNAUTHORIZED', 'A valid bearer token is required'));
    }
    next();
  };
}

function isPublic(req: Request): boolean {
  const p = req.path.replace(/\/$/, '') || '/';
  if (p === '/') return req.method === 'GET' || req.method === 'HEAD';
  return p === '/health' || p === '/health/ready';
}
