import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { registerRequestHooks } from './common/request-hooks';
import type { MasConfig } from './config/mas-config';
import { DomainExceptionFilter } from './errors/domain-exception.filter';
import { createOpenApiDocument } from './openapi';

/**
 * Everything main.ts, the e2e tests and the OpenAPI script share, so none of them drifts:
 * request hooks, the one exception filter, docs routes and shutdown hooks.
 */
export function configureApp(app: INestApplication, cfg: MasConfig): INestApplication {
  registerRequestHooks((app as NestFastifyApplication).getHttpAdapter().getInstance(), cfg);
  app.useGlobalFilters(new DomainExceptionFilter());
  const doc = createOpenApiDocument(app);
  SwaggerModule.setup('api-docs', app, doc, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  app.enableShutdownHooks();
  return app;
}
