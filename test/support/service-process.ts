import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { scrubbedEnv } from './tmux-server';
import { waitFor } from './wait-for';

const ROOT = path.join(__dirname, '..', '..');

export interface ServiceProcess {
  proc: ChildProcess;
  port: number;
  url: string;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  alive(): boolean;
  /** SIGKILL if still running, then waits for the exit. */
  stop(): Promise<void>;
}

/** A free loopback port, picked by the kernel and released for the child to take. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * The real service (`src/main.ts`, its own signal handling included) in a child process, for what an
 * in-process test app cannot show: SIGTERM, process exit, process limits (`nofile` runs it under
 * `prlimit`). Transpile-only: type checking is the typecheck script's job, and it would triple the
 * start-up time on a busy machine. Resolves once `/health` answers.
 */
export async function startService(
  env: Record<string, string>,
  opts: { nofile?: number } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const node = [process.execPath, '-r', 'ts-node/register/transpile-only', 'src/main.ts'];
  const argv = opts.nofile ? ['prlimit', `--nofile=${opts.nofile}:${opts.nofile}`, ...node] : node;
  const proc = spawn(argv[0], argv.slice(1), {
    cwd: ROOT,
    env: scrubbedEnv({ MAS_API_PORT: String(port), MAS_API_HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      if (gone) throw new Error(`service exited at start-up:\n${out}`);
      return (await fetch(`${url}/health`)).ok;
    },
    60_000,
    200,
  );
  return {
    proc,
    port,
    url,
    exited,
    output: () => out,
    alive: () => !gone,
    stop: async () => {
      if (!gone) proc.kill('SIGKILL');
      await exited;
    },
  };
}
