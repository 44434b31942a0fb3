import { Controller, Get } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { endpointsOf } from './common/route-catalogue';
import { Public, RateBudget } from './common/route-policy';
import { ServiceInfo } from './service-info.dto';

export const API_VERSION = '2.2.0';

/** GET / and its HEAD twin, the web UI's connectivity probe (§2.4). */
@ApiTags('Service')
@Controller()
export class RootController {
  constructor(private readonly adapter: HttpAdapterHost) {}

  @Get()
  @ApiOperation({
    summary: 'Service identity and route list; HEAD is the web UI connectivity probe',
  })
  @ApiOkResponse({ type: ServiceInfo })
  @Public()
  @RateBudget('other', { head: 'exempt' })
  getRoot(): ServiceInfo {
    const f = this.adapter.httpAdapter.getInstance<FastifyInstance>();
    return {
      name: 'MAS API Server',
      version: API_VERSION,
      status: 'running',
      timestamp: new Date().toISOString(),
      endpoints: endpointsOf(f),
    };
  }
}
