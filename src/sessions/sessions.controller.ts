import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../errors/error-response.dto';
import { ConnectionInfoDto, RestoreResponseDto, StopResponseDto } from './dto/lifecycle.dto';
import { ListSessionsQuery } from './dto/list-sessions.query';
import { ConnectRequest, RestoreRequest, StopRequest } from './dto/session-requests';
import { SessionAgentsDto, SessionDetailDto, SessionListDto } from './dto/session.dto';
import { LifecycleService } from './lifecycle.service';
import { SESSION_REF_PATTERN, type SessionRef } from './session-ref';
import { SessionRefPipe } from './session-ref.pipe';
import { SessionService } from './session.service';

const REF = {
  name: 'sessionId',
  type: String,
  pattern: SESSION_REF_PATTERN.source,
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
  @ApiOkResponse({ type: SessionListDto })
  @ApiErrors(400, 429, 503, 504)
  @Header('Content-Type', 'application/json; charset=utf-8') // the body is JSON text already
  listSessions(@Query() query: ListSessionsQuery) {
    return this.sessions.list(query);
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'One session with its agents, windows and startup progress' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionDetailDto })
  @ApiErrors(400, 404, 409, 503, 504)
  getSession(@Param('sessionId', SessionRefPipe) ref: SessionRef) {
    return this.sessions.detail(ref);
  }

  @Get(':sessionId/agents')
  @ApiOperation({ summary: 'The agents of one session, in roster order' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionAgentsDto })
  @ApiErrors(400, 404, 409, 503, 504)
  getSessionAgents(@Param('sessionId', SessionRefPipe) ref: SessionRef) {
    return this.sessions.agents(ref);
  }

  @Post(':sessionId/connect')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach instructions for a live session; changes nothing' })
  @ApiParam(REF)
  @ApiBody({ type: ConnectRequest, required: false })
  @ApiOkResponse({ type: ConnectionInfoDto })
  @ApiErrors(400, 404, 409, 415, 503, 504)
  connectSession(@Param('sessionId', SessionRefPipe) ref: SessionRef, @Body() req: ConnectRequest) {
    return this.sessions.connect(ref, req);
  }

  @Post(':sessionId/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a session (graceful, then kill-session); idempotent' })
  @ApiParam(REF)
  @ApiBody({ type: StopRequest, required: false })
  @ApiOkResponse({ type: StopResponseDto })
  @ApiErrors(400, 404, 409, 415, 503, 504)
  stopSession(@Param('sessionId', SessionRefPipe) ref: SessionRef, @Body() req: StopRequest) {
    return this.lifecycle.stop(ref, req);
  }

  @Post(':sessionId/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recreate a terminated session from its files' })
  @ApiParam(REF)
  @ApiBody({ type: RestoreRequest, required: false })
  @ApiOkResponse({ type: RestoreResponseDto })
  @ApiErrors(400, 404, 409, 415, 422, 502, 503, 504)
  restoreSession(@Param('sessionId', SessionRefPipe) ref: SessionRef, @Body() req: RestoreRequest) {
    return this.lifecycle.restore(ref, req);
  }
}
