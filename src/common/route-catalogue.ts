import type { FastifyInstance } from 'fastify';

const catalogues = new WeakMap<FastifyInstance, { routes: string[]; assets: string }>();

/** The `/session…` twins of `/sessions…` (§2.1) are one route each in the list. */
const ALIAS = /^\/session(\/|$)/;

/**
 * Records every route as the router registers it, so GET / lists what is really served (§2.4).
 * Must run before the routes are registered: configureApp calls it first.
 */
export function recordRoutes(f: FastifyInstance, docsPath: string): void {
  const seen: string[] = [];
  catalogues.set(f, { routes: seen, assets: `/${docsPath}/` });
  f.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) seen.push(`${method} ${route.url}`);
  });
}

/**
 * `"<METHOD> <path>"` of every route in registration order: GET and POST routes, less the
 * `/session` aliases and the docs UI's static files; HEAD only for `/`, the web UI's probe,
 * since HEAD works wherever GET does.
 */
export function endpointsOf(f: FastifyInstance): string[] {
  const c = catalogues.get(f);
  const out = (c?.routes ?? []).filter((r) => {
    const [method, url] = r.split(' ', 2);
    if (url.includes('*') || url.startsWith(c!.assets) || ALIAS.test(url)) return false;
    return method === 'GET' || method === 'POST' || r === 'HEAD /';
  });
  return [...new Set(out)];
}
