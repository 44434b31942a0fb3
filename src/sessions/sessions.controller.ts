import { Body, Controller, Get, Header, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { JsonText } from '../common/json-text';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { ConnectionInfo, RestoreResponse, StopResponse } from './dto/lifecycle.dto';
import { ListSessionsQuery } from './dto/list-sessions.query';
import { ConnectRequest, RestoreRequest, StopRequest } from './dto/session-requests';
import { SessionAgents, SessionDetail, SessionList } from '../core/dto/session.dto';
import { RestoreService } from './restore.service';
import { StopService } from './stop.service';
import { SESSION_REF_PATTERN, type SessionRef } from '../core/session-ref';
import { SessionRefPipe } from '../core/session-ref.pipe';
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
    private readonly stopper: StopService,
    private readonly restorer: RestoreService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List MAS sessions with status and agent counts' })
  @ApiOkResponse({ type: SessionList })
  @ApiErrors(400, 503, 504)
  @Header('Content-Type', 'application/json; charset=utf-8') // the body is JSON text already
  listSessions(@Query() query: ListSessionsQuery): Promise<JsonText<SessionList>> {
    return this.sessions.list(query);
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'One session with its agents, windows and startup progress' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionDetail })
  @ApiErrors(400, 404, 409, 503, 504)
  getSession(@Param('sessionId', SessionRefPipe) ref: SessionRef): Promise<SessionDetail> {
    return this.sessions.detail(ref);
  }

  @Get(':sessionId/agents')
  @ApiOperation({ summary: 'The agents of one session, in roster order' })
  @ApiParam(REF)
  @ApiOkResponse({ type: SessionAgents })
  @ApiErrors(400, 404, 409, 503, 504)
  getSessionAgents(@Param('sessionId', SessionRefPipe) ref: SessionRef): Promise<SessionAgents> {
    return this.sessions.agents(ref);
  }

  @Post(':sessionId/connect')
  @HttpCode(200)
  @ApiOperation({ summary: 'Attach instructions for a live session; changes nothing' })
  @ApiParam(REF)
  @ApiBody({ type: ConnectRequest, required: false })
  @ApiOkResponse({ type: ConnectionInfo })
  @ApiErrors(400, 404, 409, 503, 504)
  connectSession(
    @Param('sessionId', SessionRefPipe) ref: SessionRef,
    @Body() req: ConnectRequest,
  ): Promise<ConnectionInfo> {
    return this.sessions.connect(ref, req);
  }

  @Post(':sessionId/stop')
  @HttpCode(200)
  @ApiOperation({ summary: 'Stop a session (graceful, then kill-session); idempotent' })
  @ApiParam(REF)
  @ApiBody({ type: StopRequest, required: false })
  @ApiOkResponse({ type: StopResponse })
  @ApiErrors(400, 404, 409, 503, 504)
  @RateBudget('lifecycle')
  stopSession(
    @Param('sessionId', SessionRefPipe) ref: SessionRef,
    @Body() req: StopRequest,
  ): Promise<StopResponse> {
    return this.stopper.stop(ref, req);
  }

  @Post(':sessionId/restore')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recreate a terminated session from its files' })
  @ApiParam(REF)
  @ApiBody({ type: RestoreRequest, required: false })
  @ApiOkResponse({ type: RestoreResponse })
  @ApiErrors(400, 404, 409, 422, 502, 503, 504)
  @RateBudget('lifecycle')
  restoreSession(
    @Param('sessionId', SessionRefPipe) ref: SessionRef,
    @Body() req: RestoreRequest,
  ): Promise<RestoreResponse> {
    return this.restorer.restore(ref, req);
  }
}
