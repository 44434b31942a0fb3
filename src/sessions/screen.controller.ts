import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RateBudget } from '../common/route-policy';
import { SESSION_REF_PATTERN, type SessionRef } from '../core/session-ref';
import { SessionRefPipe } from '../core/session-ref.pipe';
import { ApiErrors } from '../errors/error-response.dto';
import { AGENT_ID_PATTERN, AgentIdPipe } from './agent-id.pipe';
import { AgentScreen, ScreenQuery } from './dto/screen.dto';
import { ScreenService } from './screen.service';

const REF = {
  name: 'sessionId',
  type: String,
  pattern: SESSION_REF_PATTERN.source,
  description: 'Full id, short id (8 hex) or tmux name mas-<8 hex>; matched exactly',
  example: 'ebef3e29',
};
const AGENT = {
  name: 'agentId',
  type: String,
  pattern: AGENT_ID_PATTERN.source,
  description: 'Two-digit agent id of the roster',
  example: '10',
};

/** Observation routes of one agent (contract §10); also served under /session (§2.1). */
@ApiTags('Sessions')
@Controller(['sessions', 'session'])
export class ScreenController {
  constructor(private readonly screens: ScreenService) {}

  @Get(':sessionId/agents/:agentId/screen')
  @ApiOperation({
    summary: "An agent pane's current screen, history lines above it, cursor and size (§10.1)",
  })
  @ApiParam(REF)
  @ApiParam(AGENT)
  @ApiOkResponse({ type: AgentScreen })
  @ApiErrors(400, 404, 409, 502, 503, 504)
  @RateBudget('observe')
  getScreen(
    @Param('sessionId', SessionRefPipe) ref: SessionRef,
    @Param('agentId', AgentIdPipe) agentId: string,
    @Query() query: ScreenQuery,
  ): Promise<AgentScreen> {
    return this.screens.screen(ref, agentId, query);
  }
}
