import type { FastifyRequest } from 'fastify';
import { hasEmptySegment } from '../common/request-hooks';

/** The `/session` alias of the sessions routes (§2.1): one label set with its canonical `/sessions`. */
const ALIAS = /^\/session(?=\/|$)/;

/**
 * The `route` label of an answer: the template the router matched, never the raw path, so the label
 * set stays as small as the route table. A request no route answered — no match, an empty segment
 * (A14), a path the router could not decode — is `unmatched`.
 */
export function routeLabel(req: Pick<FastifyRequest, 'url' | 'routeOptions'>): string {
  const template = req.routeOptions?.url;
  if (template === undefined || hasEmptySegment(req.url)) return 'unmatched';
  return template.replace(ALIAS, '/sessions');
}
