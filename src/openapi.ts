import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import type { RoutePolicy } from './common/route-policy';
import { errorResponse } from './errors/error-response.dto';
import { API_VERSION } from './root.controller';

type Operation = {
  operationId?: string;
  security?: unknown;
  responses: Record<string, { description?: string }>;
} & { [K in keyof RoutePolicy as `x-mas-${K}`]?: RoutePolicy[K] };

/** The OpenAPI document from the decorators; sorted so served and committed copies are identical. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('MAS API')
    .setDescription(
      'HTTP control plane for MAS (Multi-Agent System) tmux sessions. Contract 2.2.0.',
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
    for (const [method, op] of Object.entries(item) as [string, Operation][]) {
      if (op.operationId) op.operationId = op.operationId.replace(/\[\d+\]$/, ''); // one path per route after the alias filter
      for (const [code, r] of Object.entries(op.responses ?? {}))
        if (r.description === '') r.description = code.startsWith('2') ? 'Success' : 'Error';
      applyPolicy(method, op);
    }
  }
  doc.paths = paths;
  // The token is optional (contract §2.3): without MAS_API_TOKEN every route is open.
  doc.security = [{}, { bearer: [] }];
  if (doc.components?.schemas)
    doc.components.schemas = Object.fromEntries(
      Object.entries(doc.components.schemas).sort(([a], [b]) => a.localeCompare(b)),
    );
  return doc;
}

/**
 * The answers every route can give by its declared policy and method, so no route can forget
 * them (§3.2: "401, 403, 413, 415 and 429 can arise on any route they apply to"): 400, 403 and
 * 408 everywhere, 401 unless public, 429 unless exempt, and 413 and 415 on POST.
 */
function applyPolicy(method: string, op: Operation): void {
  const isPublic = op['x-mas-public'] === true;
  const exempt = op['x-mas-budget'] === 'exempt';
  delete op['x-mas-public'];
  delete op['x-mas-budget'];
  delete op['x-mas-headBudget'];
  if (isPublic) op.security = [{}];
  // 400: a bracket or prototype query key is refused on every route (§2.2)
  const common = [400, 403, 408, ...(isPublic ? [] : [401]), ...(exempt ? [] : [429])];
  if (method === 'post') common.push(413, 415);
  for (const status of common) op.responses[status] ??= errorResponse(status);
  op.responses = Object.fromEntries(
    Object.entries(op.responses).sort(([a], [b]) => a.localeCompare(b)),
  );
}
