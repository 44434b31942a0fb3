import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { plainDocsAssets } from './common/docs-assets';
import { recordRoutes } from './common/route-catalogue';
import { registerRequestHooks } from './common/request-hooks';
import { IssueBucketInterceptor } from './common/validation/issue-bucket';
import { RequestValidationPipe } from './common/validation/request-validation.pipe';
import type { MasConfig } from './config/mas-config';
import { DomainExceptionFilter } from './errors/domain-exception.filter';
import { tuneServer } from './http-adapter';
import { createOpenApiDocument } from './openapi';

const DOCS_PATH = 'api-docs';

/**
 * Everything main.ts, the e2e tests and the OpenAPI script share, so none of them drifts:
 * server limits, request hooks, the one exception filter, the one validation pipe and docs routes. main.ts owns the signals
 * (A12: HTTP drains before tmux channels close, which Nest's own shutdown hooks do the other way).
 */
export function configureApp(app: INestApplication, cfg: MasConfig): INestApplication {
  const f = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  recordRoutes(f, DOCS_PATH); // before any route exists, the docs' included
  tuneServer(f.server, cfg);
  registerRequestHooks(f, cfg);
  plainDocsAssets(f, DOCS_PATH);
  app.useGlobalFilters(new DomainExceptionFilter());
  app.useGlobalInterceptors(new IssueBucketInterceptor());
  app.useGlobalPipes(new RequestValidationPipe());
  const doc = createOpenApiDocument(app);
  SwaggerModule.setup(DOCS_PATH, app, doc, { jsonDocumentUrl: 'openapi.json', raw: ['json'] });
  return app;
}
