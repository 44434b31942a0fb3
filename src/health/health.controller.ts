import { Controller, Get, Req, Res } from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isTrusted } from '../common/request-hooks';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { ReadinessIndicators } from './health.indicators';

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: ReadinessIndicators,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: always 200, no tmux or disk access' })
  @ApiOkResponse({ schema: { example: { status: 'ok', timestamp: '2026-11-25T20:00:00.000Z' } } })
  getHealth() {
    return { status: 'ok', timestamp: new Date().toISOString() };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: tmux (version, breaker), workspace, agent command' })
  @ApiOkResponse({
    schema: {
      example: {
        status: 'ready',
        checks: { tmux: { status: 'up', version: 'tmux 3.3a' } },
        timestamp: '2026-11-25T20:00:00.000Z',
      },
    },
  })
  @ApiServiceUnavailableResponse({
    type: ErrorResponseDto,
    description: 'NOT_READY with details.checks',
  })
  async getReadiness(@Req() req: FastifyRequest, @Res({ passthrough: true }) res: FastifyReply) {
    let checks: Record<string, unknown>;
    let ok = true;
    try {
      const r = await this.health.check([
        () => this.checks.tmuxCheck(),
        () => this.checks.workspaceCheck(),
        () => this.checks.agentCommandCheck(),
      ]);
      checks = r.details;
    } catch (e) {
      ok = false;
      checks =
        (e as { getResponse?: () => { details?: Record<string, unknown> } }).getResponse?.()
          .details ?? {};
    }
    // A8: paths, versions and the agent command are for token holders only
    const full = isTrusted(req);
    if (ok)
      return full
        ? { status: 'ready', checks, timestamp: new Date().toISOString() }
        : { status: 'ready', timestamp: new Date().toISOString() };
    res.code(503).header('retry-after', '5');
    return {
      error: 'Service is not ready',
      code: 'NOT_READY',
      details: { checks: full ? checks : upOrDown(checks) },
      timestamp: new Date().toISOString(),
    };
  }
}

/** Each check as `"up"` or `"down"`, nothing else. */
function upOrDown(checks: Record<string, unknown>): Record<string, 'up' | 'down'> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, c]) => [
      name,
      (c as { status?: unknown })?.status === 'up' ? 'up' : 'down',
    ]),
  );
}
