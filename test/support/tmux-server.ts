import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface TmuxResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The scrubbed environment of T-02/T-03: no TMUX, no TMUX_PANE, a UTF-8 locale. */
export function scrubbedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    LC_ALL: 'C.UTF-8',
    TERM: 'xterm-256color',
  };
  return { ...env, ...extra };
}

/**
 * A private tmux server per spec file (T-08): short temp dir, `-S <dir>/s`, empty config,
 * scrubbed environment. Never the user's default server.
 */
export class TmuxTestServer {
  readonly socket: string;
  readonly config: string;

  private constructor(readonly dir: string) {
    this.socket = path.join(dir, 's');
    this.config = path.join(dir, 'empty.conf');
    writeFileSync(this.config, '');
  }

  static create(): TmuxTestServer {
    return new TmuxTestServer(mkdtempSync('/tmp/mt-'));
  }

  tmux(...args: string[]): Promise<TmuxResult> {
    return new Promise((resolve) => {
      execFile(
        'tmux',
        ['-u', '-S', this.socket, '-f', this.config, ...args],
        { env: scrubbedEnv() },
        (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });
  }

  async ok(...args: string[]): Promise<string> {
    const r = await this.tmux(...args);
    if (r.code !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  async sessionNames(): Promise<string[]> {
    const r = await this.tmux('list-sessions', '-F', '#{session_name}');
    return r.code === 0 ? r.stdout.split('\n').filter(Boolean).sort() : [];
  }

  async stop(): Promise<void> {
    await this.tmux('kill-server');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
