import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { IDEMPOTENCY_KEY, IdempotencyService } from '../../core/idempotency.service';
import { ValidationError } from '../../errors/mas-error';
import { refuseTogether } from './issue-bucket';

const RawIdempotencyKey = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): unknown =>
    ctx.switchToHttp().getRequest<FastifyRequest>().headers['idempotency-key'],
);

/** Validated in a pipe, not in the decorator, so its issue joins the others (§3.3). */
class IdempotencyKeyPipe implements PipeTransform<unknown, Promise<string | undefined>> {
  async transform(value: unknown): Promise<string | undefined> {
    try {
      return IdempotencyService.validate(value);
    } catch (e) {
      if (e instanceof ValidationError) return refuseTogether(e);
      throw e;
    }
  }
}

/** The Idempotency-Key header (§4.12), validated: absent or empty is no key. */
export const IdempotencyKey = (): ParameterDecorator =>
  RawIdempotencyKey(undefined, new IdempotencyKeyPipe());

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
