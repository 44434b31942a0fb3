import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { JsonText } from '../common/json-text';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import {
  ConnectionInfo,
  ConnectRequestDto,
  RestoreRequestDto,
  RestoreResponse,
  StopRequestDto,
  StopResponse,
} from './dto/lifecycle.dto';
import { SessionAgents, SessionDetail, SessionList } from './dto/session.dto';
import { LifecycleService } from './lifecycle.service';
import { SessionService } from './session.service';

const REF = {
  name: 'sessionId',
  description: 'Full id, short id (8 hex) or tmux name mas-<8 hex>; matched exactly',
  example: 'ebef3e29',
};

/** Sessions routes; every one is also served under /session (contract §2.1). */
@ApiTags('Sessions')
@Controller(['sessions', 'session'])
export class SessionsController {
  constructor(
    private readonly sessions: SessionService,
    private readonly lifecycle: LifecycleService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List MAS sessions with status and agent counts' })
  @ApiQuery({
    name: 'status',
    required: false,
    enum: ['active', 'inactive', 'terminated', 'restoring', 'all'],
  })
  @ApiQuery({
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
  })
  @ApiQuery({
    name: 'offset',
    required: false,
    schema: { type: 'integer', minimum: 0, maximum: 1000000, default: 0 },
  })
  @ApiOkResponse({ type: SessionList })
  @ApiErrors(400, 503, 504)
  @Header('Content-Type', 'application/json; charset=utf-8') // the body is JSON text already
  listSessions(@Query() query: Record<string, unknown>): Promise<JsonText<SessionList>> {
    return this.sessions.list(query);
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'One session with its agents, windows and startup progress' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionDetail })
  @ApiErrors(400, 404, 409, 503, 504)
  getSession(@Param('sessionId') sessionId: string): Promise<SessionDetail> {
    return this.sessions.detail(sessionId);
  }

  @Get(':sessionId/agents')
  @ApiOperation({ summary: 'The agents of one session, in roster order' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionAgents })
  @ApiErrors(400, 404, 409, 503, 504)
  getSessionAgents(@Param('sessionId') sessionId: string): Promise<SessionAgents> {
    return this.sessions.agents(sessionId);
  }

  @Post(':sessionId/connect')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach instructions for a live session; changes nothing' })
  @ApiParam(REF)
  @ApiBody({ type: ConnectRequestDto, required: false })
  @ApiOkResponse({ type: ConnectionInfo })
  @ApiErrors(400, 404, 409, 503, 504)
  connectSession(
    @Param('sessionId') sessionId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<ConnectionInfo> {
    return this.sessions.connect(sessionId, body);
  }

  @Post(':sessionId/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a session (graceful, then kill-session); idempotent' })
  @ApiParam(REF)
  @ApiBody({ type: StopRequestDto, required: false })
  @ApiOkResponse({ type: StopResponse })
  @ApiErrors(400, 404, 409, 503, 504)
  @RateBudget('lifecycle')
  stopSession(
    @Param('sessionId') sessionId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<StopResponse> {
    return this.lifecycle.stop(sessionId, body);
  }

  @Post(':sessionId/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recreate a terminated session from its files' })
  @ApiParam(REF)
  @ApiBody({ type: RestoreRequestDto, required: false })
  @ApiOkResponse({ type: RestoreResponse })
  @ApiErrors(400, 404, 409, 422, 502, 503, 504)
  @RateBudget('lifecycle')
  restoreSession(
    @Param('sessionId') sessionId: string,
    @Body() body: Record<string, unknown>,
  ): Promise<RestoreResponse> {
    return this.lifecycle.restore(sessionId, body);
  }
}
