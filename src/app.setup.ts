import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import { bodyMiddleware } from './common/body.middleware';
import { guardMiddleware, requestMiddleware } from './common/guard.middleware';
import type { MasConfig } from './config/mas-config';
import { DomainExceptionFilter } from './errors/domain-exception.filter';
import { createOpenApiDocument } from './openapi';

/**
 * Everything main.ts, the e2e tests and the OpenAPI script share, so none of them drifts:
 * middleware order, the one exception filter, docs routes and shutdown hooks.
 */
export function configureApp(app: INestApplication, cfg: MasConfig): INestApplication {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  express.set('etag', false); // every answer is no-store; hashing each body cost ~3 % of a warm list (profile)
  express.set('query parser', 'simple');
  express.use(requestMiddleware);
  express.use(guardMiddleware(cfg));
  express.use(bodyMiddleware);
  app.useGlobalFilters(new DomainExceptionFilter());
  const doc = createOpenApiDocument(app);
  SwaggerModule.setup('api-docs', app, doc, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  app.enableShutdownHooks();
  return app;
}
