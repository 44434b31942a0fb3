/** One validation problem, as contract §3.3 lists it. */
export interface ValidationIssue {
  location: 'path' | 'query' | 'header' | 'body';
  field: string;
  rule: string;
  message: string;
  received?: string;
}

export type Details = Record<string, unknown>;

/**
 * Base of every expected failure. Services and the gateway throw these, never Nest HTTP
 * exceptions; only DomainExceptionFilter knows statuses.
 */
export abstract class MasError extends Error {
  protected constructor(
    readonly code: string,
    message: string,
    readonly details?: Details,
    /** Seconds for the Retry-After header, when the client may try again. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends MasError {
  constructor(readonly issues: ValidationIssue[]) {
    super('VALIDATION_FAILED', 'Request validation failed', { issues });
  }
}

/** Request-level refusals decided before any work: JSON, media type, size, origin, host, token, rate, time. */
export class RequestRejectedError extends MasError {
  constructor(
    code:
      | 'INVALID_JSON'
      | 'UNSUPPORTED_MEDIA_TYPE'
      | 'PAYLOAD_TOO_LARGE'
      | 'ORIGIN_NOT_ALLOWED'
      | 'HOST_NOT_ALLOWED'
      | 'UNAUTHORIZED'
      | 'ROUTE_NOT_FOUND'
      | 'RATE_LIMITED'
      | 'REQUEST_TIMEOUT',
    message: string,
    details?: Details,
    retryAfter?: number,
  ) {
    super(code, message, details, retryAfter);
  }
}

export class NotFoundError extends MasError {
  constructor(
    code: 'SESSION_NOT_FOUND' | 'TARGET_NOT_FOUND' | 'AGENT_NOT_FOUND' | 'TRANSCRIPT_NOT_FOUND',
    message: string,
    details?: Details,
  ) {
    super(code, message, details);
  }
}

export class ConflictError extends MasError {
  constructor(
    code:
      | 'SESSION_ID_AMBIGUOUS'
      | 'SESSION_TERMINATED'
      | 'SESSION_EXISTS'
      | 'RESTORE_IN_PROGRESS'
      | 'SESSION_STARTING'
      | 'AGENT_NOT_RUNNING'
      | 'IDEMPOTENCY_KEY_REUSED'
      | 'SESSION_NAME_TAKEN',
    message: string,
    details?: Details,
    retryAfter?: number,
  ) {
    super(code, message, details, retryAfter);
  }
}

export class NotRestorableError extends MasError {
  constructor(reason: 'no_session_dir' | 'metadata_unreadable' | 'metadata_invalid') {
    super('NOT_RESTORABLE', 'Session cannot be restored', { reason });
  }
}

export class WorkspaceError extends MasError {
  constructor(reason: string, message: string, retryAfter = 5) {
    super('WORKSPACE_UNAVAILABLE', message, { reason }, retryAfter);
  }
}

/** §10.3: `MAS_EVENTS_MAX_CLIENTS` streams are open already. */
export class StreamLimitError extends MasError {
  constructor(limit: number, retryAfter = 5) {
    super('STREAM_LIMIT', 'Too many event streams are open', { limit }, retryAfter);
  }
}

export class AgentCommandError extends MasError {
  constructor(message: string) {
    super('AGENT_COMMAND_UNAVAILABLE', message, undefined, 5);
  }
}

/** `resources`: the client could not be spawned for lack of fds, processes or memory (A6). */
export type TmuxUnavailableReason =
  | 'not_installed'
  | 'version'
  | 'misconfigured'
  | 'transient'
  | 'breaker_open'
  | 'busy'
  | 'resources';

/** tmux failures: unavailable (503), timeout (504) or unexpected (502). */
export class TmuxError extends MasError {
  constructor(
    code: 'TMUX_UNAVAILABLE' | 'TMUX_TIMEOUT' | 'TMUX_ERROR' | 'AGENT_START_FAILED',
    message: string,
    details?: Details,
    retryAfter?: number,
    /** Logged, never sent: subcommand, exit code, first stderr line. */
    readonly internal?: Details,
  ) {
    super(code, message, details, retryAfter);
  }

  static unavailable(reason: TmuxUnavailableReason, retryAfter = 5, internal?: Details): TmuxError {
    return new TmuxError(
      'TMUX_UNAVAILABLE',
      `tmux is unavailable (${reason})`,
      { reason },
      retryAfter,
      internal,
    );
  }

  static timeout(operation: string, outcome: 'none' | 'unknown' | 'rolled_back'): TmuxError {
    return new TmuxError('TMUX_TIMEOUT', 'tmux did not answer in time', { operation, outcome });
  }
}

/** A defect: our own argv was refused by tmux (T-60 "bug" rows). Answered 500, never counted by the breaker. */
export class InternalError extends MasError {
  constructor(
    message: string,
    readonly internal?: Details,
  ) {
    super('INTERNAL_ERROR', message);
  }
}

/**
 * tmux answered "not found" for a target we took from a snapshot: the object went away meanwhile.
 * Callers that expect it handle it; one that reaches a client is 502 `session_vanished` (A1, R14).
 */
export class TmuxGoneError extends MasError {
  constructor(readonly internal?: Details) {
    super('TMUX_GONE', 'tmux object no longer exists');
  }
}

/**
 * tmux answered "duplicate session": /runs redraws the id, restore answers 409 SESSION_NAME_TAKEN
 * (A1); nothing was created in tmux.
 */
export class TmuxDuplicateError extends MasError {
  constructor() {
    super('TMUX_DUPLICATE', 'tmux session name already taken');
  }
}

/** What a TMUX_GONE or TMUX_DUPLICATE that no caller handled means to a client (A1, R14). */
export function publicTmuxError(e: MasError): MasError {
  if (e instanceof TmuxGoneError)
    return new TmuxError(
      'TMUX_ERROR',
      'The tmux session vanished during the operation',
      { reason: 'session_vanished' },
      undefined,
      e.internal,
    );
  if (e instanceof TmuxDuplicateError)
    return new ConflictError(
      'SESSION_NAME_TAKEN',
      'The tmux session name is held by another session',
      {},
    );
  return e;
}

/** GET /health/ready only: some check is down (§2.4). */
export class NotReadyError extends MasError {
  constructor(checks: Details) {
    super('NOT_READY', 'Service is not ready', { checks }, 5);
  }
}
