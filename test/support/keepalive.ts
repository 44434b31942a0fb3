import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * Opens a connection, sends one keep-alive `GET path` and resolves once the answer's head arrived,
 * leaving the connection open and idle. Rejects when the server drops it (e.g. accept hit EMFILE).
 */
export function idleConnection(port: number, path = '/health', timeoutMs = 3000): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no answer'));
    }, timeoutMs);
    let got = '';
    s.on('error', () => undefined);
    s.once('close', () => {
      clearTimeout(timer);
      reject(new Error('closed'));
    });
    s.on('data', (b) => {
      got += b.toString();
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        s.removeAllListeners('close');
        resolve(s);
      }
    });
    s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

/** Up to `n` idle keep-alive connections, opened a few at a time; stops early when the server drops one. */
export async function holdConnections(port: number, n: number): Promise<Socket[]> {
  const held: Socket[] = [];
  while (held.length < n) {
    const batch = await Promise.allSettled(
      Array.from({ length: Math.min(10, n - held.length) }, () => idleConnection(port)),
    );
    for (const b of batch) if (b.status === 'fulfilled') held.push(b.value);
    if (batch.some((b) => b.status === 'rejected')) break;
  }
  return held;
}

/** One request on its own connection; status and parsed JSON body (null when the connection failed). */
export function getJson(
  port: number,
  path: string,
  timeoutMs = 15_000,
): Promise<{
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
} | null> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: false,
        headers: { Connection: 'close' },
        timeout: timeoutMs,
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => {
          let body: Record<string, unknown> = {};
          try {
            body = JSON.parse(data);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
        res.on('error', () => resolve(null));
      },
    );
    req.on('error', () => resolve(null));
    req.on('timeout', () => {
      req.destroy();
      resolve(null);
    });
    req.end();
  });
}
