import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { scrubbedEnv } from './tmux-server';

const ROOT = path.join(__dirname, '..', '..');

export interface ServiceProcess {
  proc: ChildProcess;
  port: number;
  /** Everything the service printed so far (JSON log lines). */
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The real service (src/main.ts, transpiled on the fly) in a child process, for what an in-process
 * app cannot show: process limits (`prlimit`) and whether the process survives. Resolves once it
 * listens.
 */
export async function startServiceProcess(env: Record<string, string>, opts: { nofile?: number; timeoutMs?: number } = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const node = [process.execPath, '-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src', 'main.ts')];
  const argv = opts.nofile ? ['prlimit', `--nofile=${opts.nofile}:${opts.nofile}`, ...node] : node;
  const proc = spawn(argv[0], argv.slice(1), { cwd: ROOT, env: scrubbedEnv({ MAS_API_PORT: String(port), ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), opts.timeoutMs ?? 60_000);
    const check = () => {
      if (out.includes('MAS API listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}: ${out}`));
    });
  });
  return {
    proc,
    port,
    output: () => out,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGKILL');
        await exited;
      }
    },
  };
}
