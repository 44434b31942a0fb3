import { Controller, Get, Query } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { endpointsOf } from './common/route-catalogue';
import { Public, RateBudget } from './common/route-policy';
import { ApiErrors } from './errors/error-response.dto';
import { ServiceInfo } from './service-info.dto';
import { StatusResponse } from './sessions/dto/status.dto';
import { StatusQuery } from './sessions/dto/status.query';
import { StatusService } from './sessions/status.service';

export const API_VERSION = '2.1.0';

@ApiTags('Service')
@Controller()
export class RootController {
  constructor(
    private readonly statusService: StatusService,
    private readonly adapter: HttpAdapterHost,
  ) {}

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

  @Get('status')
  @ApiTags('Status')
  @ApiOperation({ summary: 'Legacy summary of one session: running, partial or stopped' })
  @ApiOkResponse({ type: StatusResponse })
  @ApiErrors(400, 404, 409, 503, 504)
  getStatus(@Query() query: StatusQuery): Promise<StatusResponse> {
    return this.statusService.status(query.ref);
  }
}
