import type { NextFunction, Request, Response } from 'express';
import { sendError } from '../errors/domain-exception.filter';
import { RequestRejectedError, ValidationError } from '../errors/mas-error';

const LIMIT = 1024 * 1024;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Reads POST bodies per contract §2.2: empty or whitespace → {}; non-empty needs JSON (415);
 * over 1 MiB → 413 before parsing; bad JSON → 400 INVALID_JSON; non-object, depth > 32 or a
 * prototype key → 400 VALIDATION_FAILED. Other methods' bodies are ignored.
 */
export function bodyMiddleware(req: Request, res: Response, next: NextFunction): void {
  if (req.method !== 'POST') {
    req.body = {};
    return next();
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > LIMIT) return reject(req, res, new RequestRejectedError('PAYLOAD_TOO_LARGE', 'Request body is larger than 1 MiB', { limitBytes: LIMIT }));
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (c: Buffer) => {
    if (failed) return;
    size += c.length;
    if (size > LIMIT) {
      failed = true;
      reject(req, res, new RequestRejectedError('PAYLOAD_TOO_LARGE', 'Request body is larger than 1 MiB', { limitBytes: LIMIT }));
    } else chunks.push(c);
  });
  req.on('error', () => undefined);
  req.on('end', () => {
    if (failed) return;
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') {
      req.body = {};
      return next();
    }
    const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') return sendError(res, new RequestRejectedError('UNSUPPORTED_MEDIA_TYPE', 'Body must be application/json'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return sendError(res, new RequestRejectedError('INVALID_JSON', 'Body is not valid JSON'));
    }
    const problem = shapeProblem(parsed);
    if (problem) return sendError(res, new ValidationError([{ location: 'body', field: problem.field, rule: problem.rule, message: problem.message }]));
    req.body = parsed;
    next();
  });
}

function reject(req: Request, res: Response, err: RequestRejectedError): void {
  res.setHeader('Connection', 'close');
  sendError(res, err);
  req.resume();
}

function shapeProblem(v: unknown): { field: string; rule: string; message: string } | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { field: '', rule: 'type', message: 'body must be a JSON object' };
  const walk = (x: unknown, depth: number, at: string): { field: string; rule: string; message: string } | undefined => {
    if (depth > 32) return { field: at, rule: 'depth', message: 'nesting deeper than 32' };
    if (!x || typeof x !== 'object') return undefined;
    for (const [k, child] of Object.entries(x)) {
      const here = Array.isArray(x) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      if (!Array.isArray(x) && FORBIDDEN.has(k)) return { field: here, rule: 'forbidden_key', message: `key ${k} is not allowed` };
      const p = walk(child, depth + 1, here);
      if (p) return p;
    }
    return undefined;
  };
  // JSON.parse creates "__proto__" as an own property, so Object.entries sees it.
  return walk(v, 1, '');
}
