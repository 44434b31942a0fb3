import type { ArgumentMetadata } from '@nestjs/common';
import { ValidationError } from '../../errors/mas-error';
import { MessageRequest } from '../../messages/dto/message-request';
import { ListSessionsQuery } from '../../sessions/dto/list-sessions.query';
import { StopRequest } from '../../sessions/dto/session-requests';
import { StatusQuery } from '../../sessions/dto/status.query';
import { RequestValidationPipe } from './request-validation.pipe';

const pipe = new RequestValidationPipe();
const run = (
  value: unknown,
  type: ArgumentMetadata['type'],
  metatype: ArgumentMetadata['metatype'],
) => pipe.transform(value, { type, metatype, data: undefined });
async function issues(...args: Parameters<typeof run>) {
  try {
    await run(...args);
  } catch (e) {
    if (e instanceof ValidationError) return e.issues;
    throw e;
  }
  throw new Error('accepted');
}

describe('#13 item 1: the global ValidationPipe', () => {
  it('turns query integers given as digits into numbers, and empty values into the defaults', async () => {
    expect(await run({ limit: '7', offset: '' }, 'query', ListSessionsQuery)).toEqual(
      Object.assign(new ListSessionsQuery(), { status: 'all', limit: 7, offset: 0 }),
    );
  });

  it('refuses signs, exponents and out-of-range integers as range, echoing the text sent', async () => {
    for (const v of ['1e1', '-1', '0', '101', '0000'])
      expect(await issues({ limit: v }, 'query', ListSessionsQuery)).toEqual([
        {
          location: 'query',
          field: 'limit',
          rule: 'range',
          message: 'must be an integer from 1 to 100',
          received: v,
        },
      ]);
  });

  it('refuses a repeated query key as duplicate_param, every field reported in order', async () => {
    expect(await issues({ offset: ['1', '2'], status: 'x' }, 'query', ListSessionsQuery)).toEqual([
      expect.objectContaining({ field: 'status', rule: 'enum', received: 'x' }),
      {
        location: 'query',
        field: 'offset',
        rule: 'duplicate_param',
        message: 'must be given at most once',
      },
    ]);
  });

  it('validates the /status reference in the query (A14 length before pattern)', async () => {
    expect(await issues({ sessionId: 'c'.repeat(40) }, 'query', StatusQuery)).toEqual([
      expect.objectContaining({ location: 'query', field: 'sessionId', rule: 'length' }),
    ]);
    const q = (await run({ sessionId: 'mas-ebef3e29' }, 'query', StatusQuery)) as StatusQuery;
    expect(q.ref).toEqual({ kind: 'short', short: 'ebef3e29', raw: 'mas-ebef3e29' });
    expect(
      ((await run({ sessionId: '' }, 'query', StatusQuery)) as StatusQuery).ref,
    ).toBeUndefined();
  });

  it('never coerces: "true" and null are not booleans; unknown keys are dropped', async () => {
    expect(await issues({ force: 'true' }, 'body', StopRequest)).toEqual([
      { location: 'body', field: 'force', rule: 'type', message: 'must be a boolean' },
    ]);
    expect(await issues({ force: null }, 'body', StopRequest)).toEqual([
      expect.objectContaining({ field: 'force', rule: 'type' }),
    ]);
    expect(await run({ extra: 1 }, 'body', StopRequest)).toEqual(
      Object.assign(new StopRequest(), { force: false }),
    );
  });

  it('§3.3: a body field is never echoed, not even a session reference (the old parser did)', async () => {
    expect(
      await issues({ session: 'EBEF3E29', target: 'all', message: 'x' }, 'body', MessageRequest),
    ).toEqual([
      {
        location: 'body',
        field: 'session',
        rule: 'pattern',
        message:
          'must be a full session id (lower-case UUID), its first 8 hex digits, or mas-<8 hex>',
      },
    ]);
  });
});
