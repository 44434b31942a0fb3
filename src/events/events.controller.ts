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
  'id: 3f2a9c1e-19',
  'event: output',
  'data: {"sessionId":"ebef3e29-0b76-4071-ad8d-d5d075397ec3","agentId":"11","from":1024,"next":1039,"data":"price € end\\r\\n"}',
  '',
  'id: 3f2a9c1e-20',
  'event: gap',
  'data: {"reason":"slow_consumer","at":"2026-12-03T12:00:07.000Z","sessionId":"ebef3e29-0b76-4071-ad8d-d5d075397ec3","agentId":"11","from":1039,"next":901234}',
  '',
].join('\n');

const DESCRIPTION = [
  'Server-sent events (`text/event-stream`) of this workspace, or of one session with `sessionId`.',
  'Each event has `id: <epoch>-<seq>`, `event: <type>` and one JSON `data:` line:',
  '- `session` `{sessionId, tmuxSession, status, previous, at}`: created, stopped, restored, killed or created outside the service, any status change;',
  '- `agent` `{sessionId, agentId, status, previous, activity, exitStatus, at}`: an agent status or activity change;',
  "- `startup` `{sessionId, state, prompts}`: every change of a create's startup progress;",
  '- `message` `{sessionId, requestId, receipts}`: after each `POST /message`;',
  '- `output` (opt-in: only when `types` names it) `{sessionId, agentId, from, next, data}`: new transcript bytes of one agent, read as `GET …/output?format=raw` reads them (whole UTF-8 characters, U+FFFD for invalid sequences; `from`/`next` are transcript byte offsets, advance by `next`). Per agent at most one event every 50 ms and at most 16 KiB of transcript bytes per event; `from` of one equals `next` of the previous for that agent unless a `gap` for that agent came between. Only sessions with a session directory have output;',
  '- `gap` `{reason, at, sessionId?, agentId?, from?, next?}`: what this client will not get. With `agentId`, it is about output (sent only to streams that take output): the bytes `[from, next)` of that agent, to fetch with `GET /sessions/{sessionId}/agents/{agentId}/output?from=`, after which the events continue at `next`. Reasons: `slow_consumer` (this client, or the service, fell behind), `expired` (a `Last-Event-ID` older than what is held), `restarted` (a `Last-Event-ID` of another service process), `shutdown`. After a gap without `agentId`, re-read state.',
  'Send `Last-Event-ID` to resume: the events after it are replayed from a ring of the last 10,000 non-output events or 60 s, whichever is less, plus output events up to 8 MiB; output no longer held gives one `gap` `expired` per agent with the byte range; a resume point older than the ring gives one `gap` `expired` (or `restarted`) without `agentId`, then live events.',
  'Changes made outside the service reach the stream within 2 s. A comment line every 15 s keeps the stream alive.',
  "Per client at most 1 MiB of output is queued: beyond it, that client's output events are dropped and replaced by one `gap` `slow_consumer` per agent with the range it missed, sent once the client has caught up. A client with more than 256 KiB of other events unsent is disconnected. The token travels in `Authorization` only.",
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
