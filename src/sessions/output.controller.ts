import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { RateBudget } from '../common/route-policy';
import { SESSION_REF_PATTERN, type SessionRef } from '../core/session-ref';
import { SessionRefPipe } from '../core/session-ref.pipe';
import { ApiErrors } from '../errors/error-response.dto';
import { AGENT_ID_PATTERN, AgentIdPipe } from './agent-id.pipe';
import { AgentOutput, OutputQuery } from './dto/output.dto';
import { OutputService } from './output.service';

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

/** An agent's transcript by byte ranges (contract §10.2); also served under /session (§2.1). */
@ApiTags('Sessions')
@Controller(['sessions', 'session'])
export class OutputController {
  constructor(private readonly outputs: OutputService) {}

  @Get(':sessionId/agents/:agentId/output')
  @ApiOperation({
    summary: "A byte range of an agent's transcript: everything its pane printed (§10.2)",
  })
  @ApiParam(REF)
  @ApiParam(AGENT)
  @ApiOkResponse({ type: AgentOutput })
  @ApiErrors(400, 404, 502, 503, 504)
  @RateBudget('observe')
  getOutput(
    @Param('sessionId', SessionRefPipe) ref: SessionRef,
    @Param('agentId', AgentIdPipe) agentId: string,
    @Query() query: OutputQuery,
  ): Promise<AgentOutput> {
    return this.outputs.output(ref, agentId, query);
  }
}
