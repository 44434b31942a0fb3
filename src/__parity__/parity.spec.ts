import fc from 'fast-check';
import type { ArgumentMetadata } from '@nestjs/common';
import { RequestValidationPipe } from '../common/validation/request-validation.pipe';
import { ValidationError, type ValidationIssue } from '../errors/mas-error';
import { RunsRequest } from '../runs/dto/runs-request';
import { runPlan } from '../runs/run-request';
import { MessageRequest } from '../messages/dto/message-request';
import { ListSessionsQuery } from '../sessions/dto/list-sessions.query';
import { StatusQuery } from '../sessions/dto/status.query';
import { ConnectRequest, RestoreRequest, StopRequest } from '../sessions/dto/session-requests';
import { SessionRefPipe } from '../sessions/session-ref.pipe';
import { parseRunRequest } from './run-request';
import { parseRef, parseRefOrThrow } from './session-ref';
import { parseTarget } from './message-target';
import { textIssue, normaliseText } from './message-text';
import { bodyBool, queryEnum, queryInt, queryValue, throwIfIssues } from './input';

const pipe = new RequestValidationPipe();
async function neu(
  v: unknown,
  type: ArgumentMetadata['type'],
  metatype: ArgumentMetadata['metatype'],
) {
  try {
    return { ok: await pipe.transform(v, { type, metatype, data: undefined }) };
  } catch (e) {
    if (e instanceof ValidationError) return { issues: e.issues };
    throw e;
  }
}
function old<T>(f: () => T) {
  try {
    return { ok: f() };
  } catch (e) {
    if (e instanceof ValidationError) return { issues: e.issues };
    throw e;
  }
}
const rt = (v: unknown) => JSON.parse(JSON.stringify(v ?? {}));
const runs = { numRuns: Number(process.env.RUNS ?? 3000) };

const prompt = fc.oneof(
  fc.constantFrom(
    'go',
    '',
    ' \n',
    'a\u0000',
    'x\ud800',
    5,
    null,
    'a\r\nb',
    'x'.repeat(5001),
    undefined,
  ),
  fc.string({ maxLength: 5 }),
);
const agent = fc.oneof(
  fc.record({
    id: fc.constantFrom(
      '00',
      '10',
      '11',
      '12',
      '16',
      '20',
      '21',
      '1',
      'x',
      5,
      null,
      undefined,
      '45',
      '40',
    ),
    prompt,
    extra: fc.constantFrom(undefined, 1),
  }),
  fc.constantFrom(null, 'str', [], 3),
);
const unit = fc.oneof(
  fc.record({
    unitId: fc.constantFrom(1, 2, 4, 1.5, '1', 5, 0, undefined, null, 1, 2),
    manager: fc.oneof(agent, fc.constant(undefined)),
    workers: fc.oneof(fc.array(agent, { maxLength: 6 }), fc.constantFrom('x', undefined, {})),
  }),
  fc.constantFrom(null, 3, []),
);
const team = fc.oneof(
  fc.record({
    metaManager: fc.oneof(fc.constant(undefined), agent),
    units: fc.oneof(fc.array(unit, { maxLength: 5 }), fc.constantFrom(undefined, {}, 'u')),
    junk: fc.constantFrom(undefined, 'j'),
  }),
  fc.constantFrom(null, 'x', [], 5),
);
const runsBody = fc.oneof(
  fc.record({ agents: team, other: fc.constantFrom(undefined, 1) }),
  fc.constant({}),
);

describe('parity with the hand-written parsers', () => {
  it('POST /runs: same issues, same plan', async () => {
    await fc.assert(
      fc.asyncProperty(runsBody, async (b) => {
        const body = rt(b);
        const o = old(() => parseRunRequest(rt(body)));
        const n = await neu(rt(body), 'body', RunsRequest);
        if ('issues' in o) expect(n).toEqual({ issues: o.issues });
        else {
          expect(n.issues).toBeUndefined();
          const p = runPlan(n.ok as RunsRequest);
          expect(p.roster).toEqual(o.ok.roster);
          expect([...p.prompts]).toEqual([...o.ok.prompts]);
          expect(JSON.stringify(p.config)).toEqual(JSON.stringify(o.ok.config));
        }
      }),
      runs,
    );
  });

  it('POST /message body', async () => {
    const any = fc.constantFrom(undefined, null, 5, true, 'true', '', 'x');
    const body = fc.record({
      session: fc.oneof(
        any,
        fc.constantFrom(
          'ebef3e29',
          'mas-ebef3e29',
          'EBEF3E29',
          'd'.repeat(37),
          'ebef3e29-0b76-4071-ad8d-d5d075397ec3',
        ),
      ),
      target: fc.oneof(any, fc.constantFrom('all', '10,45', 'bogus', 'agent-16', ' 10 ')),
      message: fc.oneof(any, prompt),
      execute: any,
    });
    await fc.assert(
      fc.asyncProperty(body, async (b0) => {
        const b = rt(b0);
        const o = old(() => {
          const issues: ValidationIssue[] = [];
          const ref = parseRef(b.session, 'body', 'session');
          if ('location' in ref) issues.push(ref);
          const targetRaw = b.target;
          const target = typeof targetRaw === 'string' ? parseTarget(targetRaw) : undefined;
          if (!target)
            issues.push({
              location: 'body',
              field: 'target',
              rule:
                targetRaw === undefined
                  ? 'required'
                  : typeof targetRaw === 'string'
                    ? 'grammar'
                    : 'type',
              message:
                'must be a target such as all, managers, workers, agent-10, 10, window2, design or a comma list',
            });
          const t = textIssue(b.message, 'message');
          if (t) issues.push(t);
          const execute = bodyBool(b, 'execute', true, issues);
          throwIfIssues(issues);
          return { ref, target, execute, text: normaliseText(b.message) };
        });
        const n = await neu(rt(b), 'body', MessageRequest);
        // §3.3: received never appears for body fields (the old parser echoed the session's)
        if ('issues' in o)
          expect(n).toEqual({ issues: o.issues!.map(({ received: _r, ...i }) => i) });
        else {
          const r = n.ok as MessageRequest;
          expect(r.execute).toBe(o.ok.execute);
          expect(r.text).toBe(o.ok.text);
          expect(r.targets).toEqual(o.ok.target);
          expect(r.sessionRef).toMatchObject(o.ok.ref);
        }
      }),
      runs,
    );
  });

  it('GET /sessions and /status queries, and the path', async () => {
    const val = fc.oneof(
      fc.constantFrom(
        undefined,
        '',
        'all',
        'active',
        'bogus',
        '0',
        '1',
        '50',
        '100',
        '101',
        '-1',
        '1e1',
        '1000000',
        '1000001',
        '0001',
        'ebef3e29',
        'mas-ebef3e29',
        'c'.repeat(40),
        'a'.repeat(70),
      ),
      fc.array(fc.constantFrom('1', 'all'), { minLength: 2, maxLength: 2 }),
    );
    const q = fc.record({ status: val, limit: val, offset: val, sessionId: val, x: val });
    await fc.assert(
      fc.asyncProperty(q, async (q0) => {
        const query = Object.fromEntries(Object.entries(q0).filter(([, v]) => v !== undefined));
        const o = old(() => {
          const issues: ValidationIssue[] = [];
          const status = queryEnum(
            query,
            'status',
            ['active', 'inactive', 'terminated', 'restoring', 'all'],
            'all',
            issues,
          );
          const limit = queryInt(query, 'limit', 1, 100, 50, issues);
          const offset = queryInt(query, 'offset', 0, 1_000_000, 0, issues);
          throwIfIssues(issues);
          return { status, limit, offset };
        });
        const n = await neu({ ...query }, 'query', ListSessionsQuery);
        if ('issues' in o) expect(n).toEqual({ issues: o.issues });
        else expect({ ...(n.ok as object) }).toEqual(o.ok);

        const os = old(() => {
          const issues: ValidationIssue[] = [];
          const raw = queryValue(query, 'sessionId', issues);
          throwIfIssues(issues);
          return raw === undefined ? undefined : parseRefOrThrow(raw, 'query', 'sessionId');
        });
        const ns = await neu({ ...query }, 'query', StatusQuery);
        if ('issues' in os) expect(ns).toEqual({ issues: os.issues });
        else
          expect((ns.ok as StatusQuery).ref).toEqual(os.ok && { ...os.ok, raw: query.sessionId });

        if (typeof query.sessionId === 'string') {
          const op = old(() => parseRefOrThrow(query.sessionId, 'path', 'sessionId'));
          const np = old(() => new SessionRefPipe().transform(query.sessionId as string));
          if ('issues' in op) expect(np).toEqual(op);
          else expect(np.ok).toEqual({ ...op.ok, raw: query.sessionId });
        }
      }),
      runs,
    );
  });

  it('stop, restore and connect bodies', async () => {
    const any = fc.constantFrom(
      undefined,
      null,
      5,
      true,
      false,
      'true',
      '',
      'unit1',
      'x y',
      'a'.repeat(33),
      '2',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.record({ force: any, startAgents: any, reconnect: any, window: any }),
        async (b0) => {
          const b = rt(b0);
          const os = old(() => {
            const issues: ValidationIssue[] = [];
            const force = bodyBool(b, 'force', false, issues);
            throwIfIssues(issues);
            return { force };
          });
          const ns = await neu(rt(b), 'body', StopRequest);
          if ('issues' in os) expect(ns).toEqual({ issues: os.issues });
          else expect({ ...(ns.ok as object) }).toEqual(os.ok);
          const or = old(() => {
            const issues: ValidationIssue[] = [];
            const startAgents = bodyBool(b, 'startAgents', false, issues);
            const force = bodyBool(b, 'force', false, issues);
            throwIfIssues(issues);
            return { startAgents, force };
          });
          const nr = await neu(rt(b), 'body', RestoreRequest);
          if ('issues' in or) expect(nr).toEqual({ issues: or.issues });
          else expect({ ...(nr.ok as object) }).toEqual(or.ok);
          const oc = old(() => {
            const issues: ValidationIssue[] = [];
            bodyBool(b, 'reconnect', false, issues);
            const window = b.window;
            if (
              window !== undefined &&
              (typeof window !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(window))
            )
              issues.push({
                location: 'body',
                field: 'window',
                rule: typeof window === 'string' ? 'pattern' : 'type',
                message: 'must match ^[A-Za-z0-9_-]{1,32}$',
              });
            throwIfIssues(issues);
            return { window };
          });
          const nc = await neu(rt(b), 'body', ConnectRequest);
          if ('issues' in oc) expect(nc).toEqual({ issues: oc.issues });
          else expect((nc.ok as ConnectRequest).window).toEqual(oc.ok.window);
        },
      ),
      runs,
    );
  });
});
