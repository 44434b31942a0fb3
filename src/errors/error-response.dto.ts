import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { envelope } from './domain-exception.filter';

/** The error envelope of contract §3.1; `error` is always a human sentence. */
export class ErrorResponse {
  @ApiProperty({ example: 'Session not found' }) error!: string;
  @ApiProperty({ example: 'SESSION_NOT_FOUND', pattern: '^[A-Z][A-Z0-9_]*$' }) code!: string;
  @ApiPropertyOptional({ type: Object, example: { sessionId: 'ebef3e2a' } }) details?: Record<
    string,
    unknown
  >;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T20:00:24.892Z' }) timestamp!: string;
}

const T = '2026-11-25T20:00:24.892Z';
/** The documented examples are real envelopes, with a fixed time so the document is stable. */
const e = (error: string, code: string, details?: Record<string, unknown>) => ({
  ...envelope(error, code, details),
  timestamp: T,
});

/** One documented example per status: what a client most often sees there (contract §3.2). */
const ERRORS: Record<number, { description: string; example: object }> = {
  400: {
    description: 'VALIDATION_FAILED (every issue, with location, field and rule) or INVALID_JSON',
    example: e('Request validation failed', 'VALIDATION_FAILED', {
      issues: [
        {
          location: 'query',
          field: 'limit',
          rule: 'range',
          message: 'must be an integer from 1 to 100',
          received: '0',
        },
      ],
    }),
  },
  401: {
    description: 'UNAUTHORIZED (token mode)',
    example: e('A valid bearer token is required', 'UNAUTHORIZED'),
  },
  403: {
    description: 'ORIGIN_NOT_ALLOWED or HOST_NOT_ALLOWED',
    example: e('Origin is not allowed', 'ORIGIN_NOT_ALLOWED'),
  },
  404: {
    description: 'SESSION_NOT_FOUND, TARGET_NOT_FOUND, AGENT_NOT_FOUND or ROUTE_NOT_FOUND',
    example: e('Session not found', 'SESSION_NOT_FOUND', { sessionId: 'ebef3e2a' }),
  },
  408: {
    description: 'REQUEST_TIMEOUT: the headers or body did not arrive in time (A13)',
    example: e('The request did not arrive in time', 'REQUEST_TIMEOUT'),
  },
  409: {
    description:
      'SESSION_ID_AMBIGUOUS, SESSION_TERMINATED, SESSION_EXISTS, RESTORE_IN_PROGRESS, SESSION_STARTING, AGENT_NOT_RUNNING or IDEMPOTENCY_KEY_REUSED',
    example: e('Session is not running', 'SESSION_TERMINATED', {
      sessionId: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3',
      restorable: true,
    }),
  },
  413: {
    description: 'PAYLOAD_TOO_LARGE',
    example: e('Message is larger than 64 KiB', 'PAYLOAD_TOO_LARGE', {
      field: 'message',
      limitBytes: 65536,
    }),
  },
  415: {
    description: 'UNSUPPORTED_MEDIA_TYPE',
    example: e('Body must be application/json', 'UNSUPPORTED_MEDIA_TYPE'),
  },
  422: {
    description: 'NOT_RESTORABLE',
    example: e('Session cannot be restored', 'NOT_RESTORABLE', { reason: 'metadata_unreadable' }),
  },
  429: {
    description: 'RATE_LIMITED, with Retry-After',
    example: e('Too many requests', 'RATE_LIMITED'),
  },
  502: {
    description: 'TMUX_ERROR or AGENT_START_FAILED',
    example: e('tmux failed unexpectedly', 'TMUX_ERROR', { reason: 'tmux_failed' }),
  },
  503: {
    description:
      'TMUX_UNAVAILABLE, WORKSPACE_UNAVAILABLE, AGENT_COMMAND_UNAVAILABLE or STREAM_LIMIT (/events), with Retry-After',
    example: e('tmux is unavailable (breaker_open)', 'TMUX_UNAVAILABLE', {
      reason: 'breaker_open',
    }),
  },
  504: {
    description: 'TMUX_TIMEOUT with details.outcome',
    example: e('tmux did not answer in time', 'TMUX_TIMEOUT', {
      operation: 'list-panes',
      outcome: 'none',
    }),
  },
};

/** The documented response for one error status: the envelope's schema and a typical body. */
export function errorResponse(status: number) {
  return {
    description: ERRORS[status].description,
    content: {
      'application/json': {
        schema: { $ref: getSchemaPath(ErrorResponse) },
        example: ERRORS[status].example,
      },
    },
  };
}

/**
 * Declares the errors particular to a route. Those of its policy and method (401, 403, 408, 429,
 * and 400, 413, 415 on POST) are added from the route's declaration by src/openapi.ts.
 */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(
    ApiExtraModels(ErrorResponse),
    ...statuses.map((s) => ApiResponse({ status: s, ...errorResponse(s) })),
  );
}
