import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiBody, ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdempotencyService } from '../core/idempotency.service';
import { RateBudget } from '../common/route-policy';
import { ApiErrors } from '../errors/error-response.dto';
import { ApiIdempotencyKey, IdempotencyKey } from '../common/validation/idempotency-key.decorator';
import { ParsedBody } from '../common/validation/parsed-body.decorator';
import { RunsResponse } from './dto/run.dto';
import { RunsRequest } from './dto/runs-request';
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
  @ApiIdempotencyKey('Retries with the same key return the first result')
  @ApiBody({ type: RunsRequest })
  @ApiCreatedResponse({ type: RunsResponse })
  @ApiErrors(400, 409, 502, 503, 504)
  @RateBudget('runs')
  createRun(
    @Body() req: RunsRequest,
    @ParsedBody() parsed: unknown,
    @IdempotencyKey() k: string | undefined,
    @Res({ passthrough: true }) res: FastifyReply,
  ): Promise<RunsResponse> {
    const recover = k ? () => this.runs.findByKey(k) : undefined;
    return this.idempotency.run(
      k,
      'POST /runs',
      parsed,
      () => this.runs.create(req, k),
      () => res.header('idempotency-replayed', 'true'),
      recover,
    );
  }
}
