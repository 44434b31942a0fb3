import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Expose, Transform } from 'class-transformer';
import { IsBoolean, IsIn, ValidateBy, ValidateIf } from 'class-validator';

/**
 * Checked whenever the key is present: unlike `@IsOptional`, `null` is a value, and a wrong one
 * (`"force": null` is a `type` problem, not the default).
 */
export const IfPresent = () =>
  applyDecorators(
    Expose(),
    ValidateIf((_o, v) => v !== undefined),
  );

/**
 * The key must be present. Unlike `@IsDefined`, `null` is present: a wrong value, reported as a
 * `type` problem by the field's type rule, as §3.3's parsers always did.
 */
export const Required = (message: string) =>
  applyDecorators(
    Expose(),
    ValidateBy({ name: 'required', validator: { validate: (v) => v !== undefined } }, { message }),
  );

/**
 * Each element must be an object. ValidateNested walks into a nested array instead of refusing
 * it, so one is replaced by null, which it reports as `type` at the element's index (`units[0]`).
 */
export const ArrayOfObjects = () =>
  Transform(({ value }: { value: unknown }) =>
    Array.isArray(value) ? value.map((x: unknown) => (Array.isArray(x) ? null : x)) : value,
  );

/** Body booleans are typed strictly: `"true"` is a 400 (§2.2). */
export const StrictBoolean = (description: string, def: boolean) =>
  applyDecorators(
    ApiPropertyOptional({ type: Boolean, default: def, description }),
    IfPresent(),
    IsBoolean({ message: 'must be a boolean' }),
  );

/** A query key given twice arrives as an array (§2.2: at most once). */
const NotRepeated = () =>
  ValidateBy({
    name: 'duplicate_param',
    validator: {
      validate: (v) => !Array.isArray(v),
      defaultMessage: () => 'must be given at most once',
    },
  });

/** An empty query value counts as absent (§2.2): the default applies. */
const EmptyIs = (def: unknown) => Transform(({ value }) => (value === '' ? def : value));

const DIGITS = /^[0-9]{1,9}$/;
const isIntText = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'string' && DIGITS.test(v) && Number(v) >= min && Number(v) <= max;

/**
 * A query integer: `^[0-9]{1,9}$` (no sign, exponent, point or trailing text), then within
 * [min, max]; every failure is one `range` problem. Valid text becomes a number.
 */
export const QueryInt = (min: number, max: number, def: number) =>
  applyDecorators(
    ApiPropertyOptional({ type: 'integer', minimum: min, maximum: max, default: def }),
    Expose(),
    // only text that passes becomes a number: a refused value is echoed as it was sent
    Transform(({ value }) =>
      value === '' ? def : isIntText(value, min, max) ? Number(value) : value,
    ),
    NotRepeated(),
    ValidateBy({
      name: 'range',
      validator: {
        validate: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
        defaultMessage: () => `must be an integer from ${min} to ${max}`,
      },
    }),
  );

export const QueryEnum = (values: readonly string[], def: string) =>
  applyDecorators(
    ApiPropertyOptional({ enum: values, default: def }),
    Expose(),
    EmptyIs(def),
    NotRepeated(),
    IsIn(values, { message: `must be one of ${values.join(', ')}` }),
  );

/** An optional query string: absent when empty, at most once; its grammar is the caller's. */
export const QueryString = () =>
  applyDecorators(Expose(), EmptyIs(undefined), IfPresent(), NotRepeated());
