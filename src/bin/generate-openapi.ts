import 'reflect-metadata';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { NestFactory } from '@nestjs/core';
import * as yaml from 'js-yaml';
import { AppModule } from '../app.module';
import { parseEnv } from '../config/parse-env';
import { createHttpAdapter } from '../http-adapter';
import { createOpenApiDocument } from '../openapi';

/** Renders the OpenAPI document from the decorators, without starting providers (preview mode). */
export async function renderOpenApi(): Promise<string> {
  const cfg = parseEnv({ PATH: process.env.PATH, MAS_TMUX_SOCKET: '/tmp/mas-openapi-preview' });
  const app = await NestFactory.create(AppModule.register(cfg), createHttpAdapter(), {
    preview: true,
    logger: false,
    bodyParser: false,
  });
  const doc = createOpenApiDocument(app);
  await app.close();
  return yaml.dump(doc, { noRefs: true, lineWidth: 120, sortKeys: false });
}

async function main(): Promise<void> {
  const file = path.join(__dirname, '..', '..', 'openapi.yaml');
  const text = await renderOpenApi();
  if (process.argv.includes('--check')) {
    const current = readFileSync(file, 'utf8');
    if (current !== text) {
      console.error('openapi.yaml is out of date: run `npm run openapi`');
      process.exit(1);
    }
    console.log('openapi.yaml is up to date');
    return;
  }
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}

if (require.main === module) void main();
