import 'reflect-metadata';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { ConfigError } from './config/mas-config';
import { parseEnv } from './config/parse-env';
import { watchEventLoop } from './common/loop-monitor';
import { createHttpAdapter } from './http-adapter';

async function bootstrap(): Promise<void> {
  let cfg;
  try {
    cfg = parseEnv(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
  // One JSON object per line (R11); tmux calls are logged at debug level, off unless MAS_LOG_LEVEL=debug.
  const levels: LogLevel[] = process.env.MAS_LOG_LEVEL === 'debug' ? ['fatal', 'error', 'warn', 'log', 'debug'] : ['fatal', 'error', 'warn', 'log'];
  const logger = new ConsoleLogger({ json: true, logLevels: levels });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(cfg), createHttpAdapter(), { bodyParser: false, logger });
  configureApp(app, cfg);
  const server = app.getHttpServer();
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  // R12: stop accepting, give in-flight requests 10 s, then leave; tmux sessions keep running.
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => setTimeout(() => process.exit(0), 10_000).unref());
  }
  await app.listen(cfg.port, cfg.host);
  watchEventLoop();
  new Logger('Main').log(`MAS API listening on http://${cfg.host}:${cfg.port} (workspace ${cfg.workspaceRoot}, tmux socket ${cfg.tmuxSocket})`);
}

void bootstrap();
