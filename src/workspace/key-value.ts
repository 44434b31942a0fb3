/** Result of parsing a KEY=VALUE file; `warnings` name lines ignored or values rejected. */
export interface KeyValues {
  values: Record<string, string>;
  warnings: string[];
}

const KEY = /^[A-Z][A-Z0-9_]{0,63}$/;
const BAD_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Parses `.session` and `.mas_session` (contract §6.2) with no shell semantics: never sourced,
 * no escapes, no expansion; one pair of matching quotes stripped; the last duplicate wins.
 */
export function parseKeyValue(text: string): KeyValues {
  const values: Record<string, string> = {};
  const warnings: string[] = [];
  const lines = text.split(/\r\n|\n|\r/);
  if (lines.length > 256) warnings.push('too_many_lines');
  lines.slice(0, 256).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    if (line.length > 4096) return void warnings.push(`line ${i + 1}: too long`);
    const eq = line.indexOf('=');
    const key = eq > 0 ? line.slice(0, eq) : '';
    if (!KEY.test(key)) return void warnings.push(`line ${i + 1}: not KEY=VALUE`);
    let value = line.slice(eq + 1);
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.endsWith(value[0]))
      value = value.slice(1, -1);
    if (BAD_VALUE.test(value)) return void warnings.push(`line ${i + 1}: control characters`);
    if (key in values) warnings.push(`line ${i + 1}: duplicate ${key}`);
    values[key] = value;
  });
  return { values, warnings };
}

/** A value shell tools can `source` unquoted (contract §6.3). */
export const SAFE_WORD = /^[A-Za-z0-9._/:@%+,-]+$/;

export const SESSION_KEYS = [
  'SESSION_ID',
  'TMUX_SESSION',
  'STATUS',
  'CREATED_AT',
  'UNIT_DIR',
  'WORKFLOWS_DIR',
  'SESSION_DIR',
] as const;

/** Serialises the seven `.session` lines; every value must already be a safe word. */
export function serializeSession(values: Record<(typeof SESSION_KEYS)[number], string>): string {
  return SESSION_KEYS.map((k) => {
    if (!SAFE_WORD.test(values[k]))
      throw new Error(`.session value for ${k} is not a safe shell word`);
    return `${k}=${values[k]}\n`;
  }).join('');
}

/** Rewrites only the STATUS line (appending it if missing), keeping every other byte (§6.3). */
export function replaceStatus(text: string, status: string): string {
  const re = /^STATUS=.*$/m;
  if (re.test(text)) return text.replace(re, `STATUS=${status}`);
  return `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}STATUS=${status}\n`;
}
