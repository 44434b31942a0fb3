import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { ValidationError, type ValidationIssue } from '../../errors/mas-error';

const bucket = new AsyncLocalStorage<ValidationIssue[]>();
const ORDER: ValidationIssue['location'][] = ['path', 'query', 'header', 'body'];

/**
 * Nest validates each handler argument in its own pipe and the first refusal wins, so a bad path
 * hid a bad body (§3.3: `issues` lists every problem; attack A13-3). This interceptor, which runs
 * before the pipes, gives each request one bucket that every refusing pipe adds to.
 */
export class IssueBucketInterceptor implements NestInterceptor {
  intercept(_ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    // handle() binds the pipes' async context here (Nest wraps it in AsyncResource.bind)
    return bucket.run([], () => next.handle());
  }
}

/**
 * Refuses one argument: its issues join the request's bucket, and the refusal waits one turn of
 * the event loop, by which time the other arguments' pipes (validation is synchronous work in
 * microtasks) have added theirs; it then throws all of them, in path, query, header, body order.
 */
export async function refuseTogether(err: ValidationError): Promise<never> {
  const all = bucket.getStore();
  if (!all) throw err;
  all.push(...err.issues);
  await nextTurn();
  throw new ValidationError(
    [...all].sort((a, b) => ORDER.indexOf(a.location) - ORDER.indexOf(b.location)),
  );
}
