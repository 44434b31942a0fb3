import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from './errors/error-response.dto';
import { StatusQuery } from './sessions/dto/status.query';
import { StatusService } from './sessions/status.service';

export const API_VERSION = '2.1.0';

/** Every route of contract §2.1, as GET / lists them. */
export const ENDPOINTS = [
  'HEAD /',
  'GET /',
  'GET /health',
  'GET /health/ready',
  'GET /openapi.json',
  'GET /api-docs',
  'GET /sessions',
  'GET /sessions/:sessionId',
  'GET /sessions/:sessionId/agents',
  'POST /sessions/:sessionId/connect',
  'POST /sessions/:sessionId/stop',
  'POST /sessions/:sessionId/restore',
  'POST /runs',
  'POST /message',
  'GET /status',
];

@ApiTags('Service')
@Controller()
export class RootController {
  constructor(private readonly statusService: StatusService) {}

  @Get()
  @ApiOperation({
    summary: 'Service identity and route list; HEAD is the web UI connectivity probe',
  })
  @ApiOkResponse({
    schema: {
      example: {
        name: 'MAS API Server',
        version: API_VERSION,
        status: 'running',
        timestamp: '2026-11-25T20:00:00.000Z',
        endpoints: ENDPOINTS,
      },
    },
  })
  getRoot() {
    return {
      name: 'MAS API Server',
      version: API_VERSION,
      status: 'running',
      timestamp: new Date().toISOString(),
      endpoints: ENDPOINTS,
    };
  }

  @Get('status')
  @ApiTags('Status')
  @ApiOperation({ summary: 'Legacy summary of one session: running, partial or stopped' })
  @ApiOkResponse({
    schema: {
      example: {
        status: 'partial',
        session: 'mas-ebef3e29',
        sessionId: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3',
        sessionStatus: 'inactive',
        agents: [{ id: '10', status: 'running', window: 'unit1', pane: 0 }],
        httpServer: { running: true, pid: 48211, port: 8765 },
        timestamp: '2026-11-25T20:08:00.000Z',
      },
    },
  })
  @ApiErrors(400, 404, 409, 503, 504)
  getStatus(@Query() query: StatusQuery) {
    return this.statusService.status(query.ref);
  }
}
