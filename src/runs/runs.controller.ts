import { Body, Controller, Headers, HttpCode, Post, Res } from '@nestjs/common';
import { ApiCreatedResponse, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdempotencyService } from '../common/idempotency.service';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { RunsRequestDto, RunsResponse } from './dto/run.dto';
import { RunService } from './run.service';

@ApiTags('Runs')
@Controller('runs')
export class RunsController {
  constructor(
    private readonly runs: RunService,
    private readonly idempotency: IdempotencyService,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary: 'Create a MAS session with a team of agents; prompts are typed in the background',
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Retries with the same key return the first result',
  })
  @ApiCreatedResponse({ type: RunsResponse })
  @ApiErrors(400, 409, 502, 503, 504)
  @RateBudget('runs')
  createRun(
    @Body() body: RunsRequestDto,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<RunsResponse> {
    const k = IdempotencyService.validate(key);
    const raw = body as unknown as Record<string, unknown>;
    const recover = k ? () => this.runs.findByKey(k) : undefined;
    return this.idempotency.run(
      k,
      'POST /runs',
      raw,
      () => this.runs.create(raw, k),
      () => res.header('idempotency-replayed', 'true'),
      recover,
    );
  }
}
