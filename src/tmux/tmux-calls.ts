import { Logger } from '@nestjs/common';
import type CircuitBreaker from 'opossum';
import type { MasConfig } from '../config/mas-config';
import { InternalError, MasError, TmuxError } from '../errors/mas-error';
import { Limiter } from './limiter';
import { argvBytes, MAX_COMMAND_BYTES } from './tmux-args';
import { SocketDirGuard } from './socket-dir';
import { createTmuxBreaker, DEFAULT_BREAKER } from './tmux-breaker';
import { TmuxControlChannel } from './tmux-control';
import { outcomeOf, type TmuxCallObserver, type TmuxCallPath } from './tmux-observer';
import type { RunOptions, RunResult, TmuxRunner } from './tmux-runner';
import { classifyTmuxFailure, isNoServer } from './tmux.errors';

export interface Call {
  args: string[];
  op: string;
  write: boolean;
  opts?: RunOptions;
  /** "no server running" is an answer, not a failure (list, kill). */
  noServerOk?: boolean;
  /**
   * Calls that may go over the control client: the commands (not the chained argv), and the session
   * to attach to when no client runs; without `attach`, only a running client is used.
   */
  control?: { commands: string[][]; attach?: string };
}

/** stdout of a call that failed, for a caller that must know what ran before the failure (A1). */
const outputs = new WeakMap<object, string>();
export const failedOutput = (e: unknown): string =>
  typeof e === 'object' && e !== null ? (outputs.get(e) ?? '') : '';

/**
 * The path of every tmux call: limiter → breaker → control client or forked runner → classifier.
 * Reads are retried once after a fast transient failure (contract R4); writes never are (T-51).
 */
export class TmuxCalls {
  private readonly logger = new Logger('Tmux');
  private readonly limiter = new Limiter(8, 64);
  readonly breaker: CircuitBreaker<[Call], RunResult>;
  /** The persistent client (decision 0006); undefined when off or the runner has none. */
  readonly control?: TmuxControlChannel;
  private readonly resetMs: number;
  private readonly socketDir: SocketDirGuard;
  private openedAt = 0;
  /** Counts forked clients; tests and the benchmark read it. */
  forks = 0;
  /** Told about each answered call (metrics); the tmux layer itself keeps no numbers but `forks`. */
  observer?: TmuxCallObserver;

  constructor(
    private readonly runner: TmuxRunner,
    cfg?: MasConfig,
  ) {
    const opts = cfg?.breaker ?? DEFAULT_BREAKER;
    this.resetMs = opts.resetTimeoutMs;
    this.socketDir = SocketDirGuard.of(cfg);
    this.breaker = createTmuxBreaker((c: Call) => this.invoke(c), opts);
    this.breaker.on('open', () => (this.openedAt = Date.now()));
    if (runner.control && cfg?.tmuxControl) {
      const timeoutMs = cfg.tmuxTimeoutMs;
      this.control = new TmuxControlChannel((a) => runner.control!(a), {
        timeoutMs,
        startTimeoutMs: Math.min(1500, timeoutMs),
        idleMs: 5000,
        cooldownMs: 30_000,
      });
    }
  }

  close(): void {
    this.control?.close();
    this.breaker.shutdown();
    this.runner.killAll();
  }

  /** Seconds until the breaker's trial call, for Retry-After. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.resetMs - Date.now()) / 1000));
  }

  async read(c: Omit<Call, 'write'>): Promise<RunResult> {
    const call = { ...c, write: false };
    try {
      return await this.fire(call);
    } catch (e) {
      // One retry, only after a fast transient failure, never after a timeout (contract R4).
      if (!(e instanceof TmuxError && e.details?.reason === 'transient')) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      return this.fire(call);
    }
  }

  async write(
    args: string[],
    op: string,
    noServerOk = false,
    opts?: RunOptions,
    control?: Call['control'],
  ): Promise<RunResult> {
    if (argvBytes(args) > MAX_COMMAND_BYTES)
      throw new InternalError(`${op}: argv over ${MAX_COMMAND_BYTES} bytes`);
    try {
      return await this.fire({ args, op, write: true, opts, noServerOk, control });
    } catch (e) {
      if (noServerOk && e instanceof MasError && e.code === 'TMUX_GONE')
        return {
          exitCode: 0,
          stdout: '',
          stderr: '',
          timedOut: false,
          overflow: false,
          durationMs: 0,
        };
      throw e;
    }
  }

  private async fire(c: Call): Promise<RunResult> {
    // Before the breaker: an unsafe socket directory is the operator's to fix, not tmux failing (A4).
    await this.socketDir.ensure();
    const once = async () => {
      try {
        return await this.breaker.fire(c);
      } catch (e) {
        if ((e as { code?: string }).code === 'EOPENBREAKER')
          throw TmuxError.unavailable('breaker_open', this.retryAfterSeconds());
        if ((e as { code?: string }).code === 'ETIMEDOUT')
          throw TmuxError.timeout(c.op, c.write ? 'unknown' : 'none');
        // the service is shutting down (R12): a request still in flight gets 503, never a 500
        if ((e as { code?: string }).code === 'ESHUTDOWN')
          throw TmuxError.unavailable('transient', 1, { op: c.op, reason: 'shutting_down' });
        throw e;
      }
    };
    // The limiter bounds forks; a line on a running control client forks nothing.
    return c.control && this.control?.up ? once() : this.limiter.run(once);
  }

  private observe(c: Call, path: TmuxCallPath, r: RunResult): void {
    // `op` is the subcommand (or `version` for -V): a fixed set chosen by the gateway
    this.observer?.callEnded({
      command: c.op,
      path,
      outcome: outcomeOf(r),
      durationMs: r.durationMs,
    });
  }

  private async invoke(c: Call): Promise<RunResult> {
    let r =
      c.control && this.control
        ? await this.control.run(c.control.commands, c.control.attach)
        : null;
    const via = r ? 'control' : 'fork';
    // a write that went unanswered is a timeout to its caller (below), and so to the observer
    if (r) this.observe(c, 'control', r.lost && c.write ? { ...r, timedOut: true } : r);
    if (!r || (r.lost && !c.write)) {
      // Nothing was written, or a read went unanswered: a read is safe to ask again, on the fork path.
      this.forks++;
      r = await this.runner.run(c.args, c.opts);
      this.observe(c, 'fork', r);
    } else if (r.lost) r = { ...r, timedOut: true }; // written, never answered: may have run (T-51)
    this.logger.debug(
      `${c.op} (${via}) exit=${r.exitCode} ${r.durationMs}ms${r.stderr ? ` stderr="${r.stderr.split('\n', 1)[0].slice(0, 120)}"` : ''}`,
    );
    // spawn() is synchronous: a slow fork holds every request of this process, so it is worth a warning
    if ((r.spawnMs ?? 0) > 250)
      this.logger.warn(`${c.op}: spawning the tmux client held the event loop for ${r.spawnMs}ms`);
    if (r.exitCode === 0 && !r.timedOut && !r.overflow && !r.spawnError) return r;
    this.socketDir.recheck();
    if (c.noServerOk && isNoServer(r)) return r;
    const err = classifyTmuxFailure(r, c.op, c.write);
    outputs.set(err, r.stdout);
    throw err;
  }
}
