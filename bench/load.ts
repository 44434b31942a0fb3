import * as http from 'node:http';

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/**
 * Drops pooled connections: after a long pause (building 150 sessions can take longer than
 * Fastify's 72 s keep-alive timeout) the server closes them, and reusing one races with that close
 * (ECONNRESET).
 */
export function resetConnections(): void {
  agent.destroy();
  agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
}

/** One request; resolves with status and latency in ms. */
export function hit(
  port: number,
  method: string,
  path: string,
  body?: string,
): Promise<{ status: number; ms: number; text: string }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body
          ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            ms: Number(process.hrtime.bigint() - t0) / 1e6,
            text: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    // a dropped connection is a result to count, not a reason to abort the whole run
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({
        status: 0,
        ms: Number(process.hrtime.bigint() - t0) / 1e6,
        text: e.code ?? String(e),
      }),
    );
    req.end(body);
  });
}

const pct = (xs: number[], p: number) =>
  xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

/** Closed-loop load: `concurrency` clients, each sending as soon as the last answer arrived. */
export async function load(
  port: number,
  method: string,
  path: string,
  concurrency: number,
  durationMs: number,
  body?: string | ((client: number) => string),
  maxRequests = Infinity,
): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const deadline = Date.now() + durationMs;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, client) => {
      const payload = typeof body === 'function' ? body(client) : body; // e.g. one session per client
      while (Date.now() < deadline && lat.length < maxRequests) {
        const r = await hit(port, method, path, payload);
        if (r.status >= 400 || r.status === 0) errors++;
        lat.push(r.ms);
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return {
    requests: lat.length,
    rps: lat.length / ((Date.now() - started) / 1000),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    errors,
  };
}
