import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { scrubbedEnv } from './tmux-server';
import { waitFor } from './wait-for';

const ROOT = path.join(__dirname, '..', '..');

export interface ServiceProcess {
  proc: ChildProcess;
  url: string;
  /** Everything the process printed, for assertions and failure messages. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  kill(): void;
}

/** A free loopback port, picked by the kernel and released for the child to take. */
function freePort(): Promise<number> {
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
 * The real service (`src/main.ts`, its own signal handling included) in a child process, for what
 * an in-process test app cannot show: SIGTERM, process exit. Transpile-only: type checking is the
 * typecheck script's job, and it would triple the start-up time on a busy machine.
 */
export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: ROOT,
    env: scrubbedEnv({ MAS_API_PORT: String(port), MAS_API_HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) => proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (gone) throw new Error(`service exited at start-up:\n${out}`);
    return (await fetch(`${url}/health`)).ok;
  }, 60_000, 200);
  return { proc, url, output: () => out, exited, kill: () => void (gone || proc.kill('SIGKILL')) };
}
