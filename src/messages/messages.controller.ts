import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdempotencyService } from '../common/idempotency.service';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { MessageRequestDto, MessageResponse } from './dto/message.dto';
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
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiOkResponse({ type: MessageResponse })
  @ApiErrors(400, 404, 409, 413, 502, 503, 504)
  @RateBudget('message')
  sendMessage(
    @Body() body: MessageRequestDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<MessageResponse> {
    const k = IdempotencyService.validate(key);
    const raw = body as unknown as Record<string, unknown>;
    return this.idempotency.run(
      k,
      'POST /message',
      raw,
      () => this.messages.send(raw),
      () => res.header('idempotency-replayed', 'true'),
    );
  }
}
