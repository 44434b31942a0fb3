import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IdempotencyService } from '../../core/idempotency.service';

/** The Idempotency-Key header (§4.12), validated: absent or empty is no key. */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined =>
    IdempotencyService.validate(
      ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'],
    ),
);
