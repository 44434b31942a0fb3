import { Logger } from '@nestjs/common';
import type { ControlProcess } from '../../tmux/tmux-runner';
import { OutputLineReader } from './output-line';

/** Why a capture client ended: its session went away (stop, kill) or something else. */
export type CaptureEnd = 'closed' | 'exited';

/**
 * One control-mode client attached to one session for its `%output` (T-72, T-73): tmux sends it
 * every byte any pane of the session's windows writes, including windows created after it attached.
 * `ignore-size` keeps it from changing window sizes. It never sends commands besides its setup.
 */
export class CaptureClient {
  private readonly logger = new Logger('Capture');
  private acked?: (ok: boolean) => void;
  private closed = false;
  readonly ready: Promise<boolean>;

  constructor(
    private readonly proc: ControlProcess<Buffer>,
    onOutput: (paneId: string, bytes: Buffer) => void,
    onEnd: (why: CaptureEnd) => void,
    startTimeoutMs: number,
    /** Bytes come from the panes' pipes (decision 0008): tmux need not escape and send them here too. */
    private readonly noOutput = false,
  ) {
    this.ready = new Promise<boolean>((resolve) => (this.acked = resolve));
    const reader = new OutputLineReader(onOutput, (line) => this.onLine(line));
    proc.stdout.on('data', (b: Buffer) => reader.push(b));
    proc.onExit(() => {
      this.acked?.(false);
      onEnd(this.closed ? 'closed' : 'exited');
    });
    setTimeout(() => this.acked?.(false), startTimeoutMs).unref();
  }

  get name(): string | undefined {
    return this.proc.pid ? `client-${this.proc.pid}` : undefined;
  }

  /** Orderly first (T-75): EOF detaches; signals only if it lingers. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.proc.stdin.end();
    const term = setTimeout(() => this.proc.signal('SIGTERM'), 500);
    const kill = setTimeout(() => this.proc.signal('SIGKILL'), 1500);
    term.unref();
    kill.unref();
    this.proc.onExit(() => {
      clearTimeout(term);
      clearTimeout(kill);
    });
  }

  /**
   * Capture is on once tmux says the client's session is set (`%session-changed`, after the
   * attach's own reply, T-71): from then on every pane's `%output` comes. A command sent before that
   * can reach tmux before the attach ("no current client"), so the setup waits for it, and only
   * `%exit`, the process ending or the timeout mean the attach failed.
   */
  private onLine(line: string): void {
    if (line.startsWith('%session-changed ') && this.acked) {
      const flags = this.noOutput ? 'ignore-size,no-output' : 'ignore-size';
      this.proc.stdin.write(`refresh-client -f ${flags}\n`);
      this.acked(true);
      this.acked = undefined;
    } else if (line.startsWith('%error ')) this.logger.warn(`capture client: ${line}`);
    else if (line.startsWith('%exit')) this.acked?.(false);
  }
}
