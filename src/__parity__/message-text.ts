import type { ValidationIssue } from '../errors/mas-error';

// C0 except TAB and LF, DEL, C1, bidi controls (contract §4.2, T-35).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** CRLF and lone CR become LF; nothing else is touched (no trimming, no escapes). */
export const normaliseText = (s: string): string => s.replace(/\r\n?/g, '\n');

/** The issue that rejects a prompt or message, or undefined. `received` is never echoed for text. */
export function textIssue(
  value: unknown,
  field: string,
  maxCodePoints?: number,
): ValidationIssue | undefined {
  const at = { location: 'body' as const, field };
  if (value === undefined) return { ...at, rule: 'required', message: 'is required' };
  if (typeof value !== 'string') return { ...at, rule: 'type', message: 'must be a string' };
  const text = normaliseText(value);
  if (CONTROL.test(text))
    return {
      ...at,
      rule: 'control_characters',
      message: 'contains control characters other than TAB and LF',
    };
  if (LONE_SURROGATE.test(text) || text.includes('\ufffd'))
    return { ...at, rule: 'invalid_unicode', message: 'contains invalid Unicode' };
  if (text.trim() === '')
    return { ...at, rule: 'blank', message: 'has no non-whitespace character' };
  if (maxCodePoints !== undefined && [...text].length > maxCodePoints)
    return { ...at, rule: 'length', message: `must be 1 to ${maxCodePoints} characters` };
  return undefined;
}
