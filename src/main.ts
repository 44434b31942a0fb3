import 'reflect-metadata';
import type { Server } from 'node:http';
import { ConsoleLogger, Logger, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { EventBus } from './core/event-bus';
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
  const levels: LogLevel[] =
    process.env.MAS_LOG_LEVEL === 'debug'
      ? ['fatal', 'error', 'warn', 'log', 'debug']
      : ['fatal', 'error', 'warn', 'log'];
  const logger = new ConsoleLogger({ json: true, logLevels: levels });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(cfg),
    createHttpAdapter(),
    { bodyParser: false, logger },
  );
  configureApp(app, cfg);
  const inFlight = countInFlight(app.getHttpServer());
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.once(sig, () => void shutdown(app, inFlight));
  await app.listen(cfg.port, cfg.host);
  watchEventLoop();
  new Logger('Main').log(
    `MAS API listening on http://${cfg.host}:${cfg.port} (workspace ${cfg.workspaceRoot}, tmux socket ${cfg.tmuxSocket})`,
  );
}

/** A12: in-flight requests get up to 7 s, and the process is gone within 9 s (runtimes kill at 10). */
const DRAIN_MS = 7_000;
const EXIT_MS = 9_000;

/** Requests received and not yet answered (or abandoned by their client). */
function countInFlight(server: Server): () => number {
  let n = 0;
  server.on('request', (_req, res) => {
    n++;
    res.once('close', () => n--);
  });
  return () => n;
}

/**
 * A12: stop accepting, let in-flight requests finish, and only then close tmux channels (app.close):
 * closing them first cut an in-flight /runs with 503 after 49 ms. tmux sessions keep running (R12).
 */
async function shutdown(app: NestFastifyApplication, inFlight: () => number): Promise<void> {
  const log = new Logger('Main');
  const t0 = Date.now();
  setTimeout(() => process.exit(0), EXIT_MS).unref();
  const server = app.getHttpServer();
  server.close();
  // A12: event streams never finish on their own; they end at once, with a final gap `shutdown`
  app.get(EventBus).shutdown();
  log.log(`shutting down: ${inFlight()} request(s) in flight`);
  while (inFlight() > 0 && Date.now() - t0 < DRAIN_MS) {
    // a connection whose answer went out is idle now; close it rather than wait for keep-alive
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 50));
  }
  server.closeAllConnections();
  await app.close().catch((e: unknown) => log.error(`shutdown: ${String(e)}`));
  log.log(`stopped after ${Date.now() - t0} ms`);
  process.exit(0);
}

void bootstrap();
