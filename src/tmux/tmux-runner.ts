import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { MasConfig } from '../config/mas-config';
import { childEnv } from './child-env';

export interface RunResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** We killed it (timeout): a timeout whatever the exit code (T-50). */
  timedOut: boolean;
  /** stdout or stderr exceeded its cap; the process group was killed. */
  overflow: boolean;
  /** Spawn error code (ENOENT, EACCES, E2BIG...), when the binary never ran. */
  spawnError?: string;
  /** How long the synchronous spawn call held the event loop (fork and exec of the client). */
  spawnMs?: number;
  /** Control channel only: the line was written and the client went away unanswered (outcome unknown). */
  lost?: boolean;
  durationMs: number;
}

export interface RunOptions {
  /** Written to stdin, then stdin is closed (load-buffer -, T-41). */
  input?: string;
  timeoutMs?: number;
}

/** A persistent control-mode client (T-70): lines in on stdin, replies out as UTF-8 text. */
export interface ControlProcess<T = string> {
  stdin: { write(s: string): unknown; end(): unknown };
  pid?: number;
  stdout: { on(ev: 'data', fn: (s: T) => void): unknown };
  /** Called once, when the client has exited or could not be spawned (at once if already gone). */
  onExit(fn: () => void): void;
  /** Signals the client's process group, if it still runs. */
  signal(sig: NodeJS.Signals): void;
}

/** The one seam tests replace: runs tmux with an argument array and reports what happened. */
export interface TmuxRunner {
  run(args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a control-mode client with the same binary, socket, config and environment as run(). */
  control?(args: string[]): ControlProcess;
  /** The same client with stdout as bytes: `%output` carries raw pane bytes (T-72), not text. */
  controlBytes?(args: string[]): ControlProcess<Buffer>;
  /** Kills every client still running (shutdown, R12). */
  killAll(): void;
}

const STDOUT_CAP = 4 * 1024 * 1024;
const STDERR_CAP = 64 * 1024;

/**
 * Spawns tmux. The only importer of node:child_process. Every call: `-u` (T-04), `-S <socket>` (T-01),
 * `-f` only when configured (T-05), an allowlisted environment without TMUX/TMUX_PANE (T-02, T-03),
 * its own process group killed with SIGKILL on timeout (T-50), byte caps (T-52).
 */
export class SpawnTmuxRunner implements TmuxRunner {
  private readonly live = new Set<ChildProcess>();
  private readonly env: Record<string, string>;
  private readonly prefix: string[];

  constructor(private readonly cfg: MasConfig) {
    this.env = childEnv(cfg);
    this.prefix = ['-u', '-S', cfg.tmuxSocket, ...(cfg.tmuxConfig ? ['-f', cfg.tmuxConfig] : [])];
  }

  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(this.cfg.tmuxBin, [...this.prefix, ...args], {
          detached: true,
          env: this.env,
          stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        });
      } catch (e) {
        // E2BIG, a NUL byte or ENOMEM throws synchronously (T-53).
        resolve(fail((e as NodeJS.ErrnoException).code ?? 'ESPAWN', started));
        return;
      }
      const spawnMs = Date.now() - started;
      let spawnError: string | undefined;
      this.live.add(child);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let timedOut = false;
      let overflow = false;
      let settled = false;
      const killGroup = () => {
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
      }, opts.timeoutMs ?? this.cfg.tmuxTimeoutMs);
      const settle = (code: number | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.live.delete(child);
        resolve({
          exitCode: spawnError ? null : code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
          overflow,
          spawnError,
          durationMs: Date.now() - started,
          spawnMs,
        });
      };
      // Before touching the pipes: EMFILE, ENFILE, EAGAIN arrive as an 'error' event, and one nobody
      // hears ends the process (A6). Under EMFILE Node never creates the pipes: stdout is null.
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = e.code ?? 'ESPAWN';
        if (!child.pid) settle(null);
      });
      child.stdout?.on('data', (b: Buffer) => {
        outLen += b.length;
        if (outLen > STDOUT_CAP) {
          overflow = true;
          killGroup();
        } else out.push(b);
      });
      child.stderr?.on('data', (b: Buffer) => {
        errLen += b.length;
        if (errLen > STDERR_CAP) {
          overflow = true;
          killGroup();
        } else err.push(b);
      });
      if (opts.input !== undefined && child.stdin) {
        child.stdin.on('error', () => undefined); // EPIPE when tmux exits early; the exit status tells
        child.stdin.end(opts.input, 'utf8');
      }
      child.on('close', (code) => settle(code));
    });
  }

  control(args: string[]): ControlProcess {
    return this.spawnControl(args, true);
  }

  controlBytes(args: string[]): ControlProcess<Buffer> {
    return this.spawnControl(args, false);
  }

  /** Node's Readable satisfies both stdout shapes: it emits strings once an encoding is set. */
  private spawnControl(
    args: string[],
    text: boolean,
  ): Omit<ControlProcess, 'stdout'> & { stdout: Readable } {
    const child = spawn(this.cfg.tmuxBin, [...this.prefix, ...args], {
      detached: true,
      env: this.env,
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    const waiting: (() => void)[] = [];
    let exited = false;
    const exit = () => {
      if (exited) return;
      exited = true;
      for (const fn of waiting.splice(0)) fn();
    };
    child.on('close', exit);
    child.on('error', exit); // ENOENT, EACCES, EMFILE...: the caller forks, and the fork reports it (T-53, A6)
    // Under EMFILE or ENFILE Node never creates the pipes; the 'error' above is still heard.
    if (!child.stdin || !child.stdout)
      throw new Error('control client could not be spawned (no pipes)');
    child.stdin.on('error', () => undefined); // EPIPE after the client left; onExit tells
    if (text) child.stdout.setEncoding('utf8'); // a UTF-8 character may straddle two reads
    return {
      pid: child.pid,
      stdin: child.stdin,
      stdout: child.stdout,
      onExit: (fn) => (exited ? fn() : waiting.push(fn)),
      signal: (sig) => {
        try {
          if (!exited && child.pid) process.kill(-child.pid, sig);
        } catch {
          /* gone */
        }
      },
    };
  }

  killAll(): void {
    for (const c of this.live) {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}

function fail(code: string, started: number): RunResult {
  return {
    exitCode: null,
    stdout: '',
    stderr: '',
    timedOut: false,
    overflow: false,
    spawnError: code,
    durationMs: Date.now() - started,
  };
}

/**
 * Makes FIFOs (mode 0600, whatever the umask) named `names` in the directory open as `dirFd`, by
 * coreutils `mkfifo` (Node has no mkfifo(3)). The child gets the directory as its fd 3 and every
 * path goes through it (`/proc/self/fd/3/<name>`): a directory swapped since it was checked cannot
 * redirect them (A10); mkfifo(3) never follows a final symlink. A name already present is left as it
 * is (mkfifo fails for it alone): the caller opens and checks every name, so the exit code is moot.
 * Settles once `mkfifo` has exited or could not be spawned.
 */
export function makeFifos(mkfifoBin: string, dirFd: number, names: string[]): Promise<void> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(mkfifoBin, ['-m', '600', '--', ...names.map((n) => `/proc/self/fd/3/${n}`)], {
        env: {},
        stdio: ['ignore', 'ignore', 'ignore', dirFd],
      });
    } catch {
      return resolve();
    }
    child.on('error', () => resolve());
    child.on('close', () => resolve());
  });
}
