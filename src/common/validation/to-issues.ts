import type { ValidationError as ClassValidationError } from 'class-validator';
import { ValidationError, type ValidationIssue } from '../../errors/mas-error';
import { firstConstraint, ruleToken } from './rule-tokens';

type Location = ValidationIssue['location'];

/** Only what the client sent in the URL or a header is echoed, and only when short (§3.3). */
const MAX_RECEIVED = 64;

function received(location: Location, value: unknown): { received?: string } {
  if (location === 'body' || typeof value !== 'string' || value.length > MAX_RECEIVED) return {};
  return { received: value };
}

/** `agents` + `units` → `agents.units`; an array child `0` → `[0]`. */
const join = (parent: string, child: string, inArray: boolean): string =>
  inArray ? `${parent}[${child}]` : parent ? `${parent}.${child}` : child;

/**
 * Flattens a class-validator error tree into contract issues, depth first in property order. A
 * field whose own constraints failed reports one issue and hides its children: a list of the wrong
 * size or an object of the wrong type is one problem, not one per element.
 */
export function toIssues(
  errors: ClassValidationError[],
  location: Location,
  parent = '',
  parentIsArray = false,
): ValidationIssue[] {
  return errors.flatMap((e) => {
    const field = join(parent, e.property, parentIsArray);
    const names = Object.keys(e.constraints ?? {});
    if (names.length === 0)
      return toIssues(e.children ?? [], location, field, Array.isArray(e.value));
    const name = firstConstraint(names);
    return [
      {
        location,
        field,
        rule: ruleToken(name),
        message: e.constraints![name],
        ...received(location, e.value),
      },
    ];
  });
}

/** The one exception factory (per location): a class-validator tree → our 400 VALIDATION_FAILED. */
export const toValidationError = (errors: ClassValidationError[], location: Location) =>
  new ValidationError(toIssues(errors, location));
