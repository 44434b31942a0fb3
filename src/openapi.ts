import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_VERSION } from './root.controller';

/** The OpenAPI document from the decorators; sorted so served and committed copies are identical. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MAS API')
    .setDescription(
      'HTTP control plane for MAS (Multi-Agent System) tmux sessions. Contract 2.1.0.',
    )
    .setVersion(API_VERSION)
    .addTag('Sessions', 'List, inspect, connect to, stop and restore MAS sessions')
    .addTag('Runs', 'Create sessions with a team of agents')
    .addTag('Messages', 'Deliver text to agents')
    .addTag('Status', 'Legacy summary')
    .addTag('Health', 'Liveness and readiness')
    .addTag('Service', 'Service identity')
    .addBearerAuth()
    .build();
  const doc = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_c: string, method: string) => method,
  });
  // Routes are served under /sessions and /session alike; document the canonical /sessions paths once.
  const paths = Object.fromEntries(
    Object.entries(doc.paths)
      .filter(([p]) => !p.startsWith('/session/') && p !== '/session')
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  for (const item of Object.values(paths)) {
    for (const op of Object.values(item) as {
      operationId?: string;
      responses?: Record<string, { description?: string }>;
    }[]) {
      if (op.operationId) op.operationId = op.operationId.replace(/\[\d+\]$/, ''); // one path per route after the alias filter
      for (const [code, r] of Object.entries(op.responses ?? {}))
        if (r.description === '') r.description = code.startsWith('2') ? 'Success' : 'Error';
    }
  }
  doc.paths = paths;
  // The token is optional (contract §2.3): without MAS_API_TOKEN every route is open.
  doc.security = [{}, { bearer: [] }];
  for (const p of ['/', '/health', '/health/ready'])
    for (const op of Object.values(paths[p] ?? {}) as { security?: unknown }[]) op.security = [{}];
  if (doc.components?.schemas)
    doc.components.schemas = Object.fromEntries(
      Object.entries(doc.components.schemas).sort(([a], [b]) => a.localeCompare(b)),
    );
  return doc;
}
