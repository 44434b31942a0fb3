import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const T = '2026-11-25T20:00:00.000Z';

/** GET /health: liveness only (§2.4). */
export class Liveness {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ format: 'date-time', example: T }) timestamp!: string;
}

/** GET /health/ready when every check is up; `checks` only for token holders (A8). */
export class Readiness {
  @ApiProperty({ enum: ['ready'] }) status!: 'ready';
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'object', additionalProperties: true },
    description: 'Each check with status up and what it found; absent without the token (A8)',
    example: {
      tmux: { status: 'up', version: 'tmux 3.3a', serverRunning: true, breaker: 'closed' },
      workspace: { status: 'up' },
      agentCommand: { status: 'up' },
    },
  })
  checks?: Record<string, unknown>;
  @ApiProperty({ format: 'date-time', example: T }) timestamp!: string;
}
