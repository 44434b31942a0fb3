import type { FastifyRequest } from 'fastify';
import { RequestRejectedError, ValidationError } from '../errors/mas-error';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The one content-type parser, for every type (contract §2.2): empty or whitespace → {};
 * non-empty needs JSON (415); bad JSON → 400 INVALID_JSON; non-object, depth > 32 or a
 * prototype key → 400 VALIDATION_FAILED. Errors reach the exception filter.
 */
export function parseBody(
  req: FastifyRequest,
  text: string | Buffer,
  done: (err: Error | null, body?: unknown) => void,
): void {
  const s = typeof text === 'string' ? text : text.toString('utf8');
  if (s.trim() === '') return done(null, {});
  const type = String(req.headers['content-type'] ?? '')
    .split(';')[0]
    .trim()
    .toLowerCase();
  if (type !== 'application/json')
    return done(
      new RequestRejectedError('UNSUPPORTED_MEDIA_TYPE', 'Body must be application/json'),
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return done(new RequestRejectedError('INVALID_JSON', 'Body is not valid JSON'));
  }
  const problem = shapeProblem(parsed);
  if (problem) return done(new ValidationError([{ location: 'body', ...problem }]));
  done(null, parsed);
}

function shapeProblem(v: unknown): { field: string; rule: string; message: string } | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    return { field: '', rule: 'type', message: 'body must be a JSON object' };
  const walk = (
    x: unknown,
    depth: number,
    at: string,
  ): { field: string; rule: string; message: string } | undefined => {
    if (depth > 32) return { field: at, rule: 'depth', message: 'nesting deeper than 32' };
    if (!x || typeof x !== 'object') return undefined;
    for (const [k, child] of Object.entries(x)) {
      const here = Array.isArray(x) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      if (!Array.isArray(x) && FORBIDDEN.has(k))
        return { field: here, rule: 'forbidden_key', message: `key ${k} is not allowed` };
      const p = walk(child, depth + 1, here);
      if (p) return p;
    }
    return undefined;
  };
  // JSON.parse creates "__proto__" as an own property, so Object.entries sees it.
  return walk(v, 1, '');
}
