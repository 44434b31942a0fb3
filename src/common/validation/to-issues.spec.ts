import { ValidationError as ClassValidationError } from 'class-validator';
import { RULE_TOKENS, firstConstraint, ruleToken } from './rule-tokens';
import { toIssues, toValidationError } from './to-issues';

function err(
  property: string,
  value: unknown,
  constraints?: Record<string, string>,
  children: ClassValidationError[] = [],
): ClassValidationError {
  return Object.assign(new ClassValidationError(), { property, value, constraints, children });
}

describe('#13 item 1: the exception factory and its rule table', () => {
  it('maps class-validator constraint names to the contract tokens', () => {
    expect(
      ['isDefined', 'isString', 'isBoolean', 'isInt', 'isObject', 'isArray', 'isIn', 'isEnum'].map(
        ruleToken,
      ),
    ).toEqual(['required', 'type', 'type', 'type', 'type', 'type', 'enum', 'enum']);
    expect(
      ['min', 'max', 'matches', 'maxLength', 'arrayMinSize', 'arrayMaxSize'].map(ruleToken),
    ).toEqual(['range', 'range', 'pattern', 'length', 'length', 'length']);
    for (const custom of ['hostable_id', 'unique', 'grammar', 'control_characters', 'blank'])
      expect(ruleToken(custom)).toBe(custom);
  });

  it('refuses a constraint the table does not know (a DTO defect, never a guessed token)', () => {
    expect(() => ruleToken('isEmail')).toThrow(/no rule token/);
    expect(new Set(RULE_TOKENS.map(([c]) => c)).size).toBe(RULE_TOKENS.length);
  });

  it('reports one constraint per field, by priority: required, then type, then length before pattern', () => {
    expect(firstConstraint(['isString', 'required', 'matches'])).toBe('required');
    expect(firstConstraint(['matches', 'isString'])).toBe('isString');
    expect(firstConstraint(['matches', 'maxLength'])).toBe('maxLength');
    expect(firstConstraint(['maxCodePoints', 'blank'])).toBe('blank');
    expect(firstConstraint(['range', 'duplicate_param'])).toBe('duplicate_param');
  });

  it('builds dotted fields with [n] indices, depth first, and hides the children of a failed field', () => {
    const tree = [
      err('agents', {}, undefined, [
        err('units', [{}, {}], undefined, [
          err('0', {}, undefined, [
            err('unitId', '1', { isInt: 'must be an integer from 1 to 4' }),
          ]),
          err('1', {}, undefined, [
            err('workers', [], { arrayMinSize: 'must hold 1 to 5 workers' }, [
              err('0', {}, { nestedValidation: 'hidden' }),
            ]),
          ]),
        ]),
      ]),
    ];
    expect(toIssues(tree, 'body')).toEqual([
      {
        location: 'body',
        field: 'agents.units[0].unitId',
        rule: 'type',
        message: 'must be an integer from 1 to 4',
      },
      {
        location: 'body',
        field: 'agents.units[1].workers',
        rule: 'length',
        message: 'must hold 1 to 5 workers',
      },
    ]);
  });

  it('echoes received only for path, query and header values of at most 64 characters', () => {
    const c = { matches: 'bad' };
    expect(toIssues([err('sessionId', 'NOT-VALID', c)], 'path')[0].received).toBe('NOT-VALID');
    expect(toIssues([err('limit', '0', c)], 'query')[0].received).toBe('0');
    expect(toIssues([err('sessionId', 'x'.repeat(65), c)], 'path')[0]).not.toHaveProperty(
      'received',
    );
    expect(toIssues([err('session', 'NOT-VALID', c)], 'body')[0]).not.toHaveProperty('received');
    expect(toIssues([err('status', ['a', 'b'], c)], 'query')[0]).not.toHaveProperty('received');
  });

  it('answers our VALIDATION_FAILED error with the issues as details', () => {
    const e = toValidationError([err('force', 'true', { isBoolean: 'must be a boolean' })], 'body');
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.details).toEqual({
      issues: [{ location: 'body', field: 'force', rule: 'type', message: 'must be a boolean' }],
    });
  });
});
