import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/** The error envelope of contract §3.1; `error` is always a human sentence. */
export class ErrorResponseDto {
  @ApiProperty({ example: 'Session not found' }) error!: string;
  @ApiProperty({ example: 'SESSION_NOT_FOUND', pattern: '^[A-Z][A-Z0-9_]*$' }) code!: string;
  @ApiPropertyOptional({ type: Object, example: { sessionId: 'ebef3e2a' } }) details?: Record<string, unknown>;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T20:00:24.892Z' }) timestamp!: string;
}

const WHAT: Record<number, string> = {
  400: 'VALIDATION_FAILED or INVALID_JSON, with details.issues',
  401: 'UNAUTHORIZED (token mode)',
  403: 'ORIGIN_NOT_ALLOWED or HOST_NOT_ALLOWED',
  404: 'SESSION_NOT_FOUND, TARGET_NOT_FOUND or ROUTE_NOT_FOUND',
  409: 'SESSION_ID_AMBIGUOUS, SESSION_TERMINATED, SESSION_EXISTS, RESTORE_IN_PROGRESS, SESSION_STARTING, AGENT_NOT_RUNNING or IDEMPOTENCY_KEY_REUSED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'NOT_RESTORABLE',
  429: 'RATE_LIMITED, with Retry-After',
  502: 'TMUX_ERROR or AGENT_START_FAILED',
  503: 'TMUX_UNAVAILABLE, WORKSPACE_UNAVAILABLE or AGENT_COMMAND_UNAVAILABLE, with Retry-After',
  504: 'TMUX_TIMEOUT with details.outcome',
};

/** Declares the error responses of a route, so they appear in openapi.yaml. */
export function ApiErrors(...statuses: number[]) {
  return applyDecorators(...statuses.map((s) => ApiResponse({ status: s, description: WHAT[s], type: ErrorResponseDto })));
}
