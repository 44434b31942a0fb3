import type { FastifyInstance } from 'fastify';

/** Headers that make a file server answer 206, 304, 412 or 416 instead of the file. */
const CONDITIONAL = [
  'range',
  'if-range',
  'if-match',
  'if-none-match',
  'if-modified-since',
  'if-unmodified-since',
];

/**
 * The Swagger UI's files are served whole, every time: §2.2 wants `no-store` on every response,
 * so there is nothing to revalidate, and @fastify/static's 412/416 refusals reached the exception
 * filter as defects (attack A13-7b).
 */
export function plainDocsAssets(f: FastifyInstance, docsPath: string): void {
  const prefix = `/${docsPath}/`;
  f.addHook('onRequest', (req, _reply, done) => {
    if (req.url.startsWith(prefix)) for (const h of CONDITIONAL) delete req.raw.headers[h];
    done();
  });
}
