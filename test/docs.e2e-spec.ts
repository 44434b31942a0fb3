import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import request from 'supertest';
import { renderPostman, COLLECTION } from '../scripts/postman';
import { createTestApp, type TestApp } from './support/create-test-app';
import { TmuxTestServer } from './support/tmux-server';

function bash(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      ['-c', script, 'bash', ...args],
      { env: { ...process.env, ...env }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
  });
}

describe('smoke script, documentation examples and generated artefacts (e2e)', () => {
  let server: TmuxTestServer;
  let t: TestApp;
  let base: string;

  beforeAll(async () => {
    server = TmuxTestServer.create();
    t = await createTestApp(server);
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await t.close();
    await server.stop();
  });

  it('test/sessions-api.sh passes against a live service and closes with "N passed, 0 failed"', async () => {
    const r = await bash(
      'exec "$0" "$@"'.replace('"$0"', path.join(__dirname, 'sessions-api.sh')),
      [base],
      {},
    );
    expect(r.out).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.code).toBe(0);
  }, 60_000);

  it('every bash example of docs/SESSION_MANAGEMENT.md runs and every curl in it succeeds', async () => {
    const doc = readFileSync(path.join(__dirname, '..', 'docs', 'SESSION_MANAGEMENT.md'), 'utf8');
    const blocks = [...doc.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(10);
    // any HTTP status ≥ 400 fails the example: the docs show the success path
    const preamble = 'set -euo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n';
    const r = await bash(preamble + blocks.join('\n'), [], { BASE: base });
    expect(r.out).toContain('startup: ready');
    expect(r.code).toBe(0);
  }, 60_000);

  it('the OpenAPI document: every route lists the errors of its policy; public routes need no token', async () => {
    const doc = (await request(t.http).get('/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: object; security?: unknown[] }>>;
    };
    const isPublic = (p: string) => ['/', '/health', '/health/ready'].includes(p);
    const exempt = (p: string) => p === '/health' || p === '/health/ready';
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const codes = Object.keys(op.responses);
        const want = ['400', '403', '408'];
        if (!isPublic(p)) want.push('401');
        if (!exempt(p)) want.push('429');
        if (method === 'post') want.push('413', '415');
        expect({
          route: `${method} ${p}`,
          missing: want.filter((c) => !codes.includes(c)),
        }).toEqual({
          route: `${method} ${p}`,
          missing: [],
        });
        expect({ route: `${method} ${p}`, has401: codes.includes('401') }).toEqual({
          route: `${method} ${p}`,
          has401: !isPublic(p),
        });
        expect(op.security).toEqual(isPublic(p) ? [{}] : undefined);
      }
    }
  });

  it('the committed Postman collection is generated from openapi.yaml', () => {
    expect(readFileSync(COLLECTION, 'utf8')).toBe(renderPostman());
  });
});
