import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import type { MasConfig } from '../../src/config/mas-config';
import { parseEnv } from '../../src/config/parse-env';
import { createHttpAdapter } from '../../src/http-adapter';
import { TranscriptStartup } from '../../src/core/transcript/transcript-startup';
import { TmuxGateway } from '../../src/tmux/tmux.gateway';
import { scrubbedEnv, type TmuxTestServer } from './tmux-server';

export const FAKE_AGENT = path.join(__dirname, 'fake-agent');

export interface TestApp {
  app: INestApplication;
  cfg: MasConfig;
  http: ReturnType<INestApplication['getHttpServer']>;
  gateway: TmuxGateway;
  workspace: string;
  close(): Promise<void>;
}

/** The production wiring (configureApp) against a private tmux server and a temp workspace. */
export async function createTestApp(
  server: TmuxTestServer | undefined,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const workspace = env.MAS_WORKSPACE_ROOT ?? realpathSync(mkdtempSync('/tmp/mw-'));
  const cfg = parseEnv(
    scrubbedEnv({
      MAS_WORKSPACE_ROOT: workspace,
      MAS_AGENT_COMMAND: FAKE_AGENT,
      MAS_AGENT_LAUNCH_CHECK_MS: '300',
      MAS_PROMPT_DELAY_MS: '500',
      MAS_SUBMIT_DELAY_MS: '50',
      MAS_STOP_GRACE_MS: '1000',
      // suites make many requests from one client; the rate-limit spec sets its own small budgets
      MAS_RATE_LIMIT_RUNS: '10000',
      MAS_RATE_LIMIT_MESSAGE: '10000',
      MAS_RATE_LIMIT_LIFECYCLE: '10000',
      MAS_RATE_LIMIT_OTHER: '100000',
      ...(server ? { MAS_TMUX_SOCKET: server.socket, MAS_TMUX_CONFIG: server.config } : {}),
      ...env,
    }),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.register(cfg)],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), {
    bodyParser: false,
    logger: ['error'],
  });
  configureApp(app, cfg);
  await app.init();
  // Listening once, here: given a server that is not listening, supertest listens and closes it per
  // request, so concurrent requests from one test closed each other's port (ECONNRESET in CI).
  await app.listen(0, '127.0.0.1');
  // The start-up listing (capture resumes, §10.2) runs in the background; a test that counts tmux
  // calls from its first line must not count it (it raced the flaky-read count in CI).
  await app.get(TranscriptStartup).done;
  return {
    app,
    cfg,
    http: app.getHttpServer(),
    gateway: app.get(TmuxGateway),
    workspace,
    close: async () => {
      await app.close();
      // a capture left open after close kept Jest from exiting in CI: name it where it happens
      // (only in a workspace of this app's own: another app may still capture a shared one)
      const open = env.MAS_WORKSPACE_ROOT ? [] : openFifos(workspace);
      if (!env.MAS_WORKSPACE_ROOT) rmSync(workspace, { recursive: true, force: true });
      if (open.length) throw new Error(`FIFOs still open after app.close(): ${open.join(', ')}`);
    },
  };
}

/** This process's descriptors on transcript FIFOs under `workspace` (§10.2, decision 0008). */
function openFifos(workspace: string): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(`${workspace}/`) && target.includes('.fifo')) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
