import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/**
 * The body as parsed, before the DTO dropped unknown keys: what the Idempotency-Key fingerprint
 * hashes (§4.12), so a retry matches exactly when its bytes mean the same JSON. Custom decorators
 * are not validated by the global pipe.
 */
export const ParsedBody = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): unknown =>
    ctx.switchToHttp().getRequest<FastifyRequest>().body,
);
