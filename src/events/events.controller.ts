import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RateBudget, StrictOrigin } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { EventsQuery } from './dto/events.query';
import { EventsService } from './events.service';

const EXAMPLE = [
  ': stream open',
  '',
  'id: 3f2a9c1e-17',
  'event: session',
  'data: {"sessionId":"ebef3e29-0b76-4071-ad8d-d5d075397ec3","tmuxSession":"mas-ebef3e29","status":"inactive","previous":null,"at":"2026-12-03T12:00:00.000Z"}',
  '',
  'id: 3f2a9c1e-18',
  'event: agent',
  'data: {"sessionId":"ebef3e29-0b76-4071-ad8d-d5d075397ec3","agentId":"10","status":"stopped","previous":"running","activity":"unknown","exitStatus":0,"at":"2026-12-03T12:00:05.000Z"}',
  '',
].join('\n');

const DESCRIPTION = [
  'Server-sent events (`text/event-stream`) of this workspace, or of one session with `sessionId`.',
  'Each event has `id: <epoch>-<seq>`, `event: <type>` and one JSON `data:` line:',
  '- `session` `{sessionId, tmuxSession, status, previous, at}`: created, stopped, restored, killed or created outside the service, any status change;',
  '- `agent` `{sessionId, agentId, status, previous, activity, exitStatus, at}`: an agent status change (activity is `unknown` until transcript capture exists);',
  "- `startup` `{sessionId, state, prompts}`: every change of a create's startup progress;",
  '- `message` `{sessionId, requestId, receipts}`: after each `POST /message`;',
  '- `output`: accepted in `types`, but no output events are produced in this version;',
  '- `gap` `{reason, at}`: `expired` or `restarted` (a `Last-Event-ID` the service cannot resume from), `slow_consumer`, `shutdown`. After a gap, re-read state.',
  'Send `Last-Event-ID` to resume: events after it are replayed from a ring of the last 10,000 events or 60 s, whichever is less.',
  'Changes made outside the service reach the stream within 2 s. A comment line every 15 s keeps the stream alive.',
  'A client with more than 256 KiB of events unsent is disconnected. The token travels in `Authorization` only.',
  'Opening a stream spends one request of the `other` budget.',
].join('\n');

/** GET /events (§10.3): the one streaming route. */
@ApiTags('Service')
@Controller()
export class EventsController {
  constructor(private readonly events: EventsService) {}

  @Get('events')
  @ApiOperation({ summary: 'Live events with resume (§10.3)', description: DESCRIPTION })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'Resume after this event id (`<epoch>-<seq>`)',
  })
  @ApiOkResponse({
    description: '`text/event-stream`; the answer never ends while the service runs',
    content: { 'text/event-stream': { schema: { type: 'string' }, example: EXAMPLE } },
  })
  @ApiErrors(400, 403, 404, 409, 503)
  @RateBudget('other')
  @StrictOrigin()
  async streamEvents(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Query() query: EventsQuery,
  ): Promise<void> {
    await this.events.stream(req, reply, query);
  }
}
