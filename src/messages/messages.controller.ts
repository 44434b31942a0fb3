import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdempotencyService } from '../core/idempotency.service';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { ApiIdempotencyKey, IdempotencyKey } from '../common/validation/idempotency-key.decorator';
import { ParsedBody } from '../common/validation/parsed-body.decorator';
import { MessageResponse } from './dto/message.dto';
import { MessageRequest } from './dto/message-request';
import { MessageService } from './message.service';

@ApiTags('Messages')
@Controller('message')
export class MessagesController {
  constructor(
    private readonly messages: MessageService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Deliver text to agents, byte-exact, with one receipt per agent' })
  @ApiIdempotencyKey()
  @ApiBody({ type: MessageRequest })
  @ApiOkResponse({ type: MessageResponse })
  @ApiErrors(400, 404, 409, 413, 502, 503, 504)
  @RateBudget('message')
  sendMessage(
    @Body() req: MessageRequest,
    @ParsedBody() parsed: unknown,
    @IdempotencyKey() k: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MessageResponse> {
    return this.idempotency.run(
      k,
      'POST /message',
      parsed,
      () => this.messages.send(req, res.request.id),
      () => res.header('idempotency-replayed', 'true'),
    );
  }
}
