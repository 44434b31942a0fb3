import { parseKeyValue, replaceStatus } from './key-value';
import { CAPS, type SafeRead } from './safe-file';

/** The new text of a status file, or why it must be left as it is (contract A10). */
export type StatusUpdate =
  | { text: string }
  | { warning: 'METADATA_UNREADABLE' | 'METADATA_UPDATE_FAILED'; why: string };

/**
 * `.session` with only its STATUS line changed. A file that cannot be read (missing, too large, not a
 * regular file, not UTF-8) or does not name this session is left untouched: rewriting it from nothing
 * would drop every line the shell tools put there.
 */
export function nextSession(read: SafeRead, id: string, status: string): StatusUpdate {
  if (!read.ok) return { warning: 'METADATA_UNREADABLE', why: `.session ${read.reason}` };
  if (parseKeyValue(read.text).values.SESSION_ID !== id)
    return { warning: 'METADATA_UNREADABLE', why: '.session does not name this session' };
  return fitsCap(replaceStatus(read.text, status), CAPS.session, '.session');
}

/**
 * `metadata.json` with `status` and the stamp set and every other key kept. Missing is a fresh object
 * (shell-written sessions may have none; nothing is lost); anything else unreadable, or JSON that is
 * not an object, is left untouched.
 */
export function nextMetadata(
  read: SafeRead,
  status: string,
  stamp: string,
  at: string,
): StatusUpdate {
  let meta: Record<string, unknown> = {};
  if (read.ok) {
    const parsed = parseObject(read.text);
    if (!parsed)
      return { warning: 'METADATA_UNREADABLE', why: 'metadata.json is not a JSON object' };
    meta = parsed;
  } else if (read.reason !== 'missing')
    return { warning: 'METADATA_UNREADABLE', why: `metadata.json ${read.reason}` };
  return fitsCap(
    `${JSON.stringify({ ...meta, status, [stamp]: at }, null, 2)}\n`,
    CAPS.metadata,
    'metadata.json',
  );
}

/** A write that would push the file over its read cap would make it unreadable for every later read. */
function fitsCap(text: string, cap: number, name: string): StatusUpdate {
  if (Buffer.byteLength(text) > cap)
    return { warning: 'METADATA_UPDATE_FAILED', why: `${name} would exceed its ${cap}-byte cap` };
  return { text };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
