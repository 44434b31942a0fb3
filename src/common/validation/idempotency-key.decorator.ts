import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IDEMPOTENCY_KEY, IdempotencyService } from '../../core/idempotency.service';

/** The Idempotency-Key header (§4.12), validated: absent or empty is no key. */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): string | undefined =>
    IdempotencyService.validate(
      ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'],
    ),
);

/** Documents the header as the service enforces it (attack A13-5). */
export const ApiIdempotencyKey = (description?: string) =>
  applyDecorators(
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: description ?? 'Retries with the same key and body return the first result',
      schema: { type: 'string', pattern: IDEMPOTENCY_KEY.source, maxLength: 128 },
    }),
  );
