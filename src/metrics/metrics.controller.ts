import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { RateBudget } from '../common/route-policy';
import { MetricsService } from './metrics.service';

const EXAMPLE = [
  '# HELP mas_http_requests_total HTTP answers by matched route template (or unmatched), method and status',
  '# TYPE mas_http_requests_total counter',
  'mas_http_requests_total{route="/sessions",method="GET",status="200"} 12',
  'mas_http_requests_total{route="unmatched",method="GET",status="404"} 1',
  '# HELP mas_breaker_state tmux circuit breaker: 0 closed, 1 half-open, 2 open',
  '# TYPE mas_breaker_state gauge',
  'mas_breaker_state 0',
  '',
].join('\n');

/** GET /metrics (§10.5): the one route that answers text, not JSON; its errors are JSON like any. */
@ApiTags('Service')
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get('metrics')
  @ApiOperation({
    summary: 'Prometheus metrics of this service instance (text exposition format 0.0.4)',
    description:
      'HTTP answers and durations by route template, tmux calls by subcommand, path and outcome, ' +
      'the tmux breaker, the snapshot cache, sessions and agents by status (from the snapshot a ' +
      'list reads: an expired one is retaken first, waited for at most 1 s) and the default ' +
      'Node.js process metrics. ' +
      'Needs the token when one is configured; spends the `other` rate budget.',
  })
  @ApiOkResponse({
    description: 'Prometheus text, `Content-Type: text/plain; version=0.0.4; charset=utf-8`',
    content: { 'text/plain': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @RateBudget('other')
  async getMetrics(@Res({ passthrough: true }) reply: FastifyReply): Promise<string> {
    const body = await this.metrics.render();
    reply.header('content-type', this.metrics.contentType);
    return body;
  }
}
