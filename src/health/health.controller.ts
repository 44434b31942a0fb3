import { Controller, Get, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService } from '@nestjs/terminus';
import type { FastifyRequest } from 'fastify';
import { isTrusted } from '../common/request-hooks';
import { Public, RateBudget } from '../common/route-policy';
import { ErrorResponse } from '../errors/error-response.dto';
import { NotReadyError } from '../errors/mas-error';
import { Liveness, Readiness } from './dto/health.dto';
import { TmuxHealthIndicator } from '../tmux/tmux.health';
import { ReadinessIndicators } from './health.indicators';

@ApiTags('Health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: ReadinessIndicators,
    private readonly tmux: TmuxHealthIndicator,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Liveness: always 200, no tmux or disk access' })
  @ApiOkResponse({ type: Liveness })
  @Public()
  @RateBudget('exempt')
  getHealth(): Liveness {
    return { status: 'ok', timestamp: new Date().toISOString() };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: tmux (version, breaker), workspace, agent command' })
  @ApiOkResponse({ type: Readiness })
  @ApiResponse({ status: 503, description: 'NOT_READY with details.checks', type: ErrorResponse })
  @Public()
  @RateBudget('exempt')
  async getReadiness(@Req() req: FastifyRequest): Promise<Readiness> {
    let checks: Record<string, unknown>;
    let ok = true;
    try {
      const r = await this.health.check([
        () => this.tmux.isHealthy(),
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
      return {
        status: 'ready',
        ...(full ? { checks } : {}),
        timestamp: new Date().toISOString(),
      };
    throw new NotReadyError(full ? checks : upOrDown(checks));
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
