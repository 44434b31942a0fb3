import {
  InternalError,
  type MasError,
  TmuxDuplicateError,
  TmuxError,
  TmuxGoneError,
} from '../errors/mas-error';
import type { RunResult } from './tmux-runner';

/** Spawn errors that mean "no room right now" (A6): too many open files, processes or no memory. */
export const RESOURCE_ERRORS = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM']);

export type FailureClass =
  | 'NO_SERVER'
  | 'MISCONFIG'
  | 'TRANSIENT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'BUG'
  | 'UNKNOWN';

/** First-line stderr markers of tmux 3.3a (T-60); the only code that reads stderr. */
const MARKERS: [RegExp, FailureClass][] = [
  [/^no server running on /, 'NO_SERVER'],
  // a server up with no session at all (exit-empty off, or kept up by clients): nothing of ours runs
  [/^no current target/, 'NO_SERVER'],
  [/^error connecting to .*\((No such file or directory|Connection refused)\)/, 'NO_SERVER'],
  [/^error connecting to /, 'MISCONFIG'],
  [/has unsafe permissions/, 'MISCONFIG'],
  [/protocol version mismatch/, 'MISCONFIG'],
  [/^server exited unexpectedly/, 'TRANSIENT'],
  [/^lost server/, 'TRANSIENT'],
  [/^(can't find|no such) (session|window|pane)/, 'NOT_FOUND'],
  [/^no buffer /, 'NOT_FOUND'],
  [/^duplicate session/, 'CONFLICT'],
  [
    /^(command too long|unknown flag|unknown command|ambiguous command|invalid session|open terminal failed|unknown option|invalid option|usage:)/,
    'BUG',
  ],
];

export function classifyStderr(stderr: string): FailureClass {
  const first = stderr.split('\n', 1)[0].trim();
  for (const [re, cls] of MARKERS) if (re.test(first)) return cls;
  return 'UNKNOWN';
}

/**
 * Maps a failed runner result to a domain error (T-50, T-53, T-60). `write` decides the timeout
 * outcome: a read changed nothing, a write may have happened (T-51).
 */
export function classifyTmuxFailure(r: RunResult, op: string, write: boolean): MasError {
  const internal = { op, exitCode: r.exitCode, stderr: r.stderr.split('\n', 1)[0].slice(0, 200) };
  if (r.spawnError === 'ENOENT' || r.spawnError === 'EACCES')
    return TmuxError.unavailable('not_installed', 5, internal);
  // Out of fds, processes or memory (A6): the machine's state, not tmux's and not a defect; it passes.
  if (r.spawnError && RESOURCE_ERRORS.has(r.spawnError))
    return TmuxError.unavailable('resources', 2, { ...internal, spawnError: r.spawnError });
  if (r.spawnError)
    return new InternalError(`tmux could not be spawned (${r.spawnError})`, internal);
  if (r.timedOut) return TmuxError.timeout(op, write ? 'unknown' : 'none');
  if (r.overflow)
    return new TmuxError(
      'TMUX_ERROR',
      'tmux printed more than expected',
      { reason: 'output_too_large' },
      undefined,
      internal,
    );
  switch (classifyStderr(r.stderr)) {
    case 'NO_SERVER':
    case 'NOT_FOUND':
      return new TmuxGoneError(internal);
    case 'CONFLICT':
      return new TmuxDuplicateError();
    case 'TRANSIENT':
      return TmuxError.unavailable('transient', 1, internal);
    case 'MISCONFIG':
      return TmuxError.unavailable('misconfigured', 5, internal);
    case 'BUG':
      return new InternalError('tmux refused a command the service built', internal);
    default:
      return new TmuxError(
        'TMUX_ERROR',
        'tmux failed unexpectedly',
        { reason: 'tmux_failed' },
        undefined,
        internal,
      );
  }
}

/** True when stderr says there is no server: an empty tree for a listing, not an error (T-06). */
export function isNoServer(r: RunResult): boolean {
  return !r.timedOut && !r.spawnError && classifyStderr(r.stderr) === 'NO_SERVER';
}

/**
 * Failures that mean tmux answered: they never count against the breaker (contract R5). Output over
 * its cap is one too (T-52): tmux answered, only more than we read, so it cannot open the circuit
 * for everyone.
 */
export function isClientOutcome(e: unknown): boolean {
  if (e instanceof TmuxError && e.details?.reason === 'output_too_large') return true;
  return (
    e instanceof TmuxGoneError || e instanceof TmuxDuplicateError || e instanceof InternalError
  );
}

/** Refusals before any tmux process ran: a command refused so reached no server and changed nothing. */
const NEVER_RAN = new Set(['not_installed', 'resources', 'busy', 'breaker_open']);
export function neverReachedTmux(e: unknown): boolean {
  return (
    e instanceof TmuxError &&
    e.code === 'TMUX_UNAVAILABLE' &&
    NEVER_RAN.has(String(e.details?.reason))
  );
}
