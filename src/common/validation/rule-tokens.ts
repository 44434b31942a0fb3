/**
 * class-validator constraint name → contract rule token (§3.3), in priority order: when several
 * constraints of one field fail, the first listed is the one reported, as the hand-written parsers
 * did (a missing value is `required`, not also `type`; a wrong type is not also a `pattern`).
 * Custom `ValidateBy` rules are named after their token and map to themselves.
 */
export const RULE_TOKENS: ReadonlyArray<readonly [constraint: string, token: string]> = [
  ['isDefined', 'required'],
  ['required', 'required'],
  ['duplicate_param', 'duplicate_param'],
  ['isString', 'type'],
  ['isBoolean', 'type'],
  ['isInt', 'type'],
  ['isObject', 'type'],
  ['isArray', 'type'],
  ['nestedValidation', 'type'],
  ['isIn', 'enum'],
  ['isEnum', 'enum'],
  ['control_characters', 'control_characters'],
  ['invalid_unicode', 'invalid_unicode'],
  ['blank', 'blank'],
  ['maxLength', 'length'],
  ['maxCodePoints', 'length'],
  ['arrayMinSize', 'length'],
  ['arrayMaxSize', 'length'],
  ['min', 'range'],
  ['max', 'range'],
  ['range', 'range'],
  ['matches', 'pattern'],
  ['grammar', 'grammar'],
  ['hostable_id', 'hostable_id'],
  ['unique', 'unique'],
];

const RANK = new Map(RULE_TOKENS.map(([c], i) => [c, i]));
const TOKEN = new Map(RULE_TOKENS);

/** The constraint reported for a field: the highest-priority one among those that failed. */
export function firstConstraint(names: string[]): string {
  return [...names].sort((a, b) => (RANK.get(a) ?? 1e9) - (RANK.get(b) ?? 1e9))[0];
}

/** A constraint missing from the table is a defect in a DTO, surfaced in tests, not guessed. */
export function ruleToken(constraint: string): string {
  const t = TOKEN.get(constraint);
  if (!t) throw new Error(`no rule token for constraint ${constraint}`);
  return t;
}
