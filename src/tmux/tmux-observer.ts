import type { RunResult } from './tmux-runner';

/** How a call reached tmux: a forked client, or a line on the persistent control client (0006). */
export type TmuxCallPath = 'fork' | 'control';
export type TmuxCallOutcome = 'ok' | 'error' | 'timeout';

export interface TmuxCallEvent {
  /** The tmux subcommand the call ran (the first of a chain): a small fixed set, never user text. */
  command: string;
  path: TmuxCallPath;
  outcome: TmuxCallOutcome;
  durationMs: number;
}

/**
 * Told about every tmux call once it has an answer. The tmux layer knows nothing of HTTP or
 * Prometheus: whoever wants numbers (src/metrics) registers one of these with the gateway.
 */
export interface TmuxCallObserver {
  callEnded(e: TmuxCallEvent): void;
}

/** A call we killed, or a control line that never got its answer, is a timeout whatever else it says (T-50, T-51). */
export function outcomeOf(r: RunResult): TmuxCallOutcome {
  if (r.timedOut) return 'timeout';
  return r.exitCode === 0 && !r.overflow && !r.spawnError && !r.lost ? 'ok' : 'error';
}
