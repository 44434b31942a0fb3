import { Logger } from '@nestjs/common';
import { BlockReader, controlLine, type Block } from './control-line';
import type { ControlProcess, RunResult } from './tmux-runner';
import { attachArgs } from './tmux-args';

export interface ControlOptions {
  /** Per command line; on expiry the channel is dropped and every line in flight is unknown (T-51). */
  timeoutMs: number;
  /** How long a start may take before the call forks instead. */
  startTimeoutMs: number;
  /** Closed after this long without a command (T-75). */
  idleMs: number;
  /** After a failure, calls fork for this long: a stalled server must not cost two timeouts per call. */
  cooldownMs: number;
}

interface Pending {
  expected: number;
  done: number;
  out: string[];
  started: number;
  resolve: (r: RunResult) => void;
}

const result = (p: Pending, extra: Partial<RunResult>): RunResult => ({
  exitCode: 0,
  stdout: p.out.length ? `${p.out.join('\n')}\n` : '',
  stderr: '',
  timedOut: false,
  overflow: false,
  durationMs: Date.now() - p.started,
  ...extra,
});

/**
 * One persistent control-mode client for writes (decision 0006): at 200 sessions a forked client
 * costs 50-80 ms of server time whatever the command, a line on this channel about 12 ms. The service
 * creates only MAS sessions (contract §7.2), so the client attaches to the session being written
 * (`no-output,ignore-size`); listings subtract it from `session_attached` by its client name.
 * Replies are matched to lines in order (T-71). Whatever cannot go over it (unsafe text, no client)
 * forks. It closes after `idleMs` without a line.
 */
export class TmuxControlChannel {
  private readonly logger = new Logger('TmuxControl');
  private proc?: ControlProcess;
  private ready?: Promise<boolean>;
  private pending: Pending[] = [];
  private disabledUntil = 0;
  private idle?: NodeJS.Timeout;
  private timer?: NodeJS.Timeout;
  private attached?: string;
  private attachedName?: string;
  private retiring = false;
  private drained: (() => void)[] = [];
  /** Names of closed clients until their process has exited (see {@link ownClientNames}). */
  private readonly closing = new Set<string>();
  /** Control clients started; tests and the benchmark read it. */
  starts = 0;

  constructor(
    private readonly spawn: (args: string[]) => ControlProcess,
    private readonly opts: ControlOptions,
  ) {}

  /** True while commands can be written without a start. */
  get up(): boolean {
    return this.proc !== undefined && Date.now() >= this.disabledUntil;
  }

  /** tmux's name for this client (`client-<pid>`), as `session_attached_list` shows it; none when down. */
  get clientName(): string | undefined {
    return this.proc?.pid ? `client-${this.proc.pid}` : undefined;
  }

  /**
   * Every client of ours tmux may still count as attached: the current one and those closed but not
   * yet exited (tmux takes a few ms to detach a client after EOF, A15). Listings subtract these.
   */
  get ownClientNames(): string[] {
    const cur = this.clientName;
    return cur ? [cur, ...this.closing] : [...this.closing];
  }

  /** True when the client sits in the session `target` (`$id` or `=name`) names. */
  isAttachedTo(target: string): boolean {
    return (
      this.proc !== undefined &&
      (target === this.attached ||
        (this.attachedName !== undefined && target === `=${this.attachedName}`))
    );
  }

  /**
   * Runs the commands as one line; they stop at the first error, like an argv chain. Null means
   * nothing was written: the caller forks. Without `attach` only a running client is used. A result
   * with `lost` means the line was written and the client went away before answering.
   */
  async run(commands: string[][], attach?: string): Promise<RunResult | null> {
    const line = controlLine(commands);
    if (line === null || this.retiring || Date.now() < this.disabledUntil) return null;
    if (!this.ready && !attach) return null;
    if (!(await (this.ready ??= this.start(attach!)))) return null;
    return this.send(line, commands.length);
  }

  /** Ends the client once its lines are answered, e.g. before its session is killed. */
  async retire(): Promise<void> {
    if (!this.proc) return;
    this.retiring = true; // writes meanwhile fork: one client, one reader, one FIFO
    try {
      if (this.pending.length) await new Promise<void>((r) => this.drained.push(r));
      this.close();
    } finally {
      this.retiring = false;
    }
  }

  close(answer: Partial<RunResult> = { lost: true, stderr: 'control client closed' }): void {
    const p = this.proc;
    this.drop(answer);
    if (!p) return;
    // Orderly first (T-75): EOF detaches; signals only if it lingers.
    p.stdin.end();
    const term = setTimeout(() => p.signal('SIGTERM'), 500);
    const kill = setTimeout(() => p.signal('SIGKILL'), 1500);
    term.unref();
    kill.unref();
    p.onExit(() => {
      clearTimeout(term);
      clearTimeout(kill);
    });
  }

  /**
   * A dropped client (closed, %exit, silent) may still sit in `session_attached_list` until tmux has
   * processed its exit; a killed one until tmux notices the closed socket, hence a second's margin.
   * Keeping a name longer costs nothing: only names tmux lists are subtracted.
   */
  private keepNameUntilExit(p: ControlProcess): void {
    if (!p.pid) return;
    const name = `client-${p.pid}`;
    this.closing.add(name);
    p.onExit(() => setTimeout(() => this.closing.delete(name), 1000).unref());
  }

  private async start(attach: string): Promise<boolean> {
    const t0 = Date.now();
    let proc: ControlProcess;
    try {
      proc = this.spawn(['-C', ...attachArgs(attach)]);
    } catch (e) {
      this.logger.warn(`control client not started (${String(e)}); forking instead`);
      return this.fail(false);
    }
    this.starts++;
    this.proc = proc;
    [this.attached, this.attachedName] = [attach, undefined];
    let acked: (ok: boolean) => void = () => undefined;
    const ack = new Promise<boolean>((resolve) => (acked = resolve));
    // A replaced client may still print a late reply: only the current one feeds the FIFO. Blocks
    // with flags 0 are the attach acknowledgement (%error: no such session) or hooks' commands.
    const reader = new BlockReader(
      (b) => this.proc === proc && (b.fromClient ? this.onBlock(b) : acked(b.ok)),
      (n) => this.proc === proc && this.onNotification(n),
    );
    proc.stdout.on('data', (s: string) => reader.push(s));
    const gone = new Promise<boolean>((resolve) => proc.onExit(() => resolve(false)));
    proc.onExit(() => this.proc === proc && this.drop({ lost: true, stderr: 'lost server' }));
    let slow = false;
    const late = new Promise<boolean>((resolve) =>
      setTimeout(() => resolve(!(slow = true)), this.opts.startTimeoutMs).unref(),
    );
    // Lines written before the attach is acknowledged run without a client (T-71): wait for it.
    const attached = await Promise.race([ack, gone, late]);
    const setup = attached
      ? await this.send('refresh-client -f no-output,ignore-size', 1, this.opts.startTimeoutMs)
      : undefined;
    if (setup?.exitCode !== 0) {
      this.logger.warn(`control client did not start in ${Date.now() - t0}ms; forking instead`);
      return this.fail(true, slow || Boolean(setup?.timedOut));
    }
    this.logger.log(
      `control client ${this.clientName} attached to ${attach} in ${Date.now() - t0}ms`,
    );
    return true;
  }

  private onNotification(line: string): void {
    if (line.startsWith('%exit')) this.drop({ lost: true, stderr: 'lost server' });
    // detach-on-destroy off moves the client instead of ending it: keep knowing where it sits.
    const m = /^%session-changed (\$\d+) (.*)$/.exec(line);
    if (m) [this.attached, this.attachedName] = [m[1], m[2]];
  }

  /**
   * Only a slow failure turns the channel off for the cooldown: that is a stalled server, which would
   * otherwise cost every call two timeouts. A fast one (no such session, no binary) costs nothing.
   */
  private fail(started: boolean, slow = false): false {
    if (slow) this.disabledUntil = Date.now() + this.opts.cooldownMs;
    if (started) this.close();
    this.ready = undefined;
    return false;
  }

  private send(
    line: string,
    expected: number,
    timeoutMs = this.opts.timeoutMs,
  ): Promise<RunResult> {
    clearTimeout(this.idle);
    return new Promise((resolve) => {
      const p = { expected, done: 0, out: [], started: Date.now(), resolve };
      // The client can leave between an await and this write (%exit right after its acknowledgement).
      if (!this.proc)
        return resolve(result(p, { exitCode: null, lost: true, stderr: 'control client gone' }));
      this.pending.push(p);
      if (this.pending.length === 1) this.arm(timeoutMs);
      this.proc!.stdin.write(`${line}\n`);
    });
  }

  /**
   * One timer, for the oldest line: replies come in order, so a later line cannot answer first. It
   * counts from when that line was written, so every line ends within its timeout.
   */
  private arm(timeoutMs = this.opts.timeoutMs): void {
    clearTimeout(this.timer);
    const left = Math.max(0, timeoutMs - (Date.now() - this.pending[0].started));
    this.timer = setTimeout(() => {
      this.logger.warn(
        `control client silent for ${timeoutMs}ms; dropped, lines in flight are unknown`,
      );
      this.disabledUntil = Date.now() + this.opts.cooldownMs;
      this.close({ timedOut: true });
    }, left);
  }

  private onBlock(b: Block): void {
    const head = this.pending[0];
    if (!head) return;
    // a failed line keeps the output of the commands before the failure, as a forked chain does
    if (b.ok) head.out.push(...b.lines);
    if (b.ok && ++head.done < head.expected) return;
    this.pending.shift();
    head.resolve(
      b.ok ? result(head, {}) : result(head, { exitCode: 1, stderr: `${b.lines.join('\n')}\n` }),
    );
    if (this.pending.length) this.arm();
    else {
      for (const r of this.drained.splice(0)) r();
      clearTimeout(this.timer);
      this.idle = setTimeout(() => this.close(), this.opts.idleMs);
      this.idle.unref();
    }
  }

  /** Every line in flight gets the same answer; the next call starts a new client. */
  private drop(extra: Partial<RunResult>): void {
    clearTimeout(this.timer);
    clearTimeout(this.idle);
    const lost = this.pending;
    this.pending = [];
    if (this.proc) this.keepNameUntilExit(this.proc);
    this.proc = undefined;
    this.ready = undefined;
    for (const p of lost) p.resolve(result(p, { exitCode: null, ...extra }));
    for (const r of this.drained.splice(0)) r();
  }
}
