import { ApiProperty } from '@nestjs/swagger';

/** GET / (§2.4): who answers, and every route it serves. */
export class ServiceInfo {
  @ApiProperty({ enum: ['MAS API Server'] }) name!: 'MAS API Server';
  @ApiProperty({ example: '2.2.0' }) version!: string;
  @ApiProperty({ enum: ['running'] }) status!: 'running';
  @ApiProperty({ format: 'date-time', example: '2026-11-25T20:00:00.000Z' }) timestamp!: string;
  @ApiProperty({
    type: [String],
    description: 'Every route as "<METHOD> <path>", from the router',
    example: ['HEAD /', 'GET /', 'GET /health', 'POST /sessions/:sessionId/connect'],
  })
  endpoints!: string[];
}
