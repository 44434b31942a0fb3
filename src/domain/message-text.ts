import { applyDecorators } from '@nestjs/common';
import { IsString, ValidateBy } from 'class-validator';
import { Required } from '../common/validation/field.decorators';

// C0 except TAB and LF, DEL, C1, bidi controls (contract §4.2, T-35).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** CRLF and lone CR become LF; nothing else is touched (no trimming, no escapes). */
export const normaliseText = (s: string): string => s.replace(/\r\n?/g, '\n');

/** One text rule of §4.2, judged on the normalised text; a non-string is the `type` rule's. */
const TextRule = (name: string, message: string, ok: (text: string) => boolean) =>
  ValidateBy({
    name,
    validator: {
      validate: (v) => typeof v !== 'string' || ok(normaliseText(v)),
      defaultMessage: () => message,
    },
  });

const RULES: [string, string, (t: string) => boolean][] = [
  [
    'control_characters',
    'contains control characters other than TAB and LF',
    (t) => !CONTROL.test(t),
  ],
  [
    'invalid_unicode',
    'contains invalid Unicode',
    (t) => !LONE_SURROGATE.test(t) && !t.includes('\ufffd'),
  ],
  ['blank', 'has no non-whitespace character', (t) => t.trim() !== ''],
];

/** A prompt or message (§4.2); `received` is never echoed for text (it is a body field). */
export const IsAgentText = (maxCodePoints?: number) =>
  applyDecorators(
    Required('is required'),
    IsString({ message: 'must be a string' }),
    ...RULES.map(([name, message, ok]) => TextRule(name, message, ok)),
    ...(maxCodePoints === undefined
      ? []
      : [
          TextRule(
            'maxCodePoints',
            `must be 1 to ${maxCodePoints} characters`,
            (t) => [...t].length <= maxCodePoints,
          ),
        ]),
  );

/** Whether a text passes every rule (for cross-field rules that only count valid agents). */
export const isValidText = (v: unknown, maxCodePoints?: number): v is string =>
  typeof v === 'string' &&
  RULES.every(([, , ok]) => ok(normaliseText(v))) &&
  (maxCodePoints === undefined || [...normaliseText(v)].length <= maxCodePoints);
