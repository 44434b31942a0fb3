import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  Logger,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BODY_LIMIT } from '../config/mas-config';
import { MasError, publicTmuxError, RequestRejectedError } from './mas-error';

/** The one table from wire code to HTTP status (contract §3.2). */
const STATUS: Record<string, number> = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  UNAUTHORIZED: 401,
  ORIGIN_NOT_ALLOWED: 403,
  HOST_NOT_ALLOWED: 403,
  ROUTE_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  TARGET_NOT_FOUND: 404,
  AGENT_NOT_FOUND: 404,
  TRANSCRIPT_NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  SESSION_ID_AMBIGUOUS: 409,
  SESSION_TERMINATED: 409,
  SESSION_EXISTS: 409,
  RESTORE_IN_PROGRESS: 409,
  SESSION_STARTING: 409,
  AGENT_NOT_RUNNING: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  SESSION_NAME_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_RESTORABLE: 422,
  RATE_LIMITED: 429,
  TMUX_ERROR: 502,
  AGENT_START_FAILED: 502,
  TMUX_UNAVAILABLE: 503,
  WORKSPACE_UNAVAILABLE: 503,
  AGENT_COMMAND_UNAVAILABLE: 503,
  NOT_READY: 503,
  STREAM_LIMIT: 503,
  TMUX_TIMEOUT: 504,
};

export interface ErrorBody {
  error: string;
  code: string;
  details?: Record<string, unknown>;
  timestamp: string;
}

/** Maps anything thrown to the envelope of contract §3.1; 500 only for defects. */
@Catch()
export class DomainExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<FastifyReply>();
    const req = host.switchToHttp().getRequest<FastifyRequest>();
    // the connection is gone (a body that stopped arriving got its 408 from the client-error
    // handler, or the client hung up): nothing can be answered, and it is no defect
    if (req.raw.destroyed && (exception as { code?: unknown })?.code === 'ECONNRESET') {
      this.logger.log(`${req.method} ${req.url}: connection closed before the request was read`);
      return;
    }
    const err = this.toMasError(exception);
    const status = err ? statusOf(err.code) : 500;
    if (err && status !== 500) {
      if (status >= 500)
        this.logger.warn(
          `${req.method} ${req.url} -> ${status} ${err.code} ${JSON.stringify((err as { internal?: unknown }).internal ?? {})}`,
        );
      if (!res.sent) sendError(res, err);
      return;
    }
    this.logger.error(
      `defect on ${req.method} ${req.url}: ${exception instanceof Error ? exception.stack : String(exception)}`,
    );
    if (!res.sent) send(res, 500, envelope('Internal error', 'INTERNAL_ERROR'));
  }

  private toMasError(exception: unknown): MasError | undefined {
    if (exception instanceof MasError) return publicTmuxError(exception);
    if (exception instanceof HttpException) {
      const s = exception.getStatus();
      if (s === 404) return new RequestRejectedError('ROUTE_NOT_FOUND', 'No such route');
      if (s === 413) return tooLarge();
    }
    return fastifyError(exception) ?? staticFileError(exception);
  }
}

const tooLarge = () =>
  new RequestRejectedError('PAYLOAD_TOO_LARGE', 'Request body is larger than 1 MiB', {
    limitBytes: BODY_LIMIT,
  });

/** Fastify's own refusals while reading a body (its FST_* errors carry a status). */
function fastifyError(e: unknown): MasError | undefined {
  const { code, statusCode } = (e ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_')) return undefined;
  if (statusCode === 413) return tooLarge();
  if (statusCode === 415)
    return new RequestRejectedError('UNSUPPORTED_MEDIA_TYPE', 'Body must be application/json');
  if (statusCode === 400) return new RequestRejectedError('INVALID_JSON', 'Body could not be read');
  return undefined;
}

/**
 * The docs UI's file server (@fastify/static) refuses a path it will not serve (`..`, NUL) with a
 * 4xx of its own: that is no route, not a defect (attack A13-7). Range and conditional headers
 * never reach it (docs-assets.ts), so nothing else can come from there.
 */
function staticFileError(e: unknown): MasError | undefined {
  const { status, statusCode } = (e ?? {}) as { status?: unknown; statusCode?: unknown };
  const s = typeof statusCode === 'number' ? statusCode : status;
  return typeof s === 'number' && s >= 400 && s < 500
    ? new RequestRejectedError('ROUTE_NOT_FOUND', 'No such route')
    : undefined;
}

/** The one table's status for a code; 500 for anything it does not know (a defect). */
export function statusOf(code: string): number {
  return STATUS[code] ?? 500;
}

/** The one builder of the §3.1 envelope; `details` is left out rather than sent empty. */
export function envelope(
  error: string,
  code: string,
  details?: Record<string, unknown>,
): ErrorBody {
  return {
    error,
    code,
    ...(details !== undefined ? { details } : {}),
    timestamp: new Date().toISOString(),
  };
}

/** The envelope of §3.1 for an expected failure. */
export const errorBody = (err: MasError): ErrorBody => envelope(err.message, err.code, err.details);

const send = (res: FastifyReply, status: number, body: ErrorBody): void =>
  void res.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));

/** Answers an expected failure: from the filter, and from hooks that answer before Nest's filter chain. */
export function sendError(res: FastifyReply, err: MasError): void {
  if (err.retryAfter !== undefined) res.header('retry-after', String(err.retryAfter));
  send(res, statusOf(err.code), errorBody(err));
}
