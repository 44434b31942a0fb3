import {
  ConflictError,
  NotFoundError,
  ValidationError,
  type ValidationIssue,
} from '../errors/mas-error';
import type { KnownSession, Snapshot } from '../sessions/snapshot';

export type SessionRef = { kind: 'full'; id: string } | { kind: 'short'; short: string };

const FULL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SHORT = /^[0-9a-f]{8}$/;
const NAME = /^mas-([0-9a-f]{8})$/;
/** The longest accepted form, a full id (A14): anything longer is a `length` problem. */
const MAX_REF = 36;

/** The three accepted forms of contract §4.1, or the issue that rejects the value. */
export function parseRef(
  value: unknown,
  location: ValidationIssue['location'],
  field: string,
): SessionRef | ValidationIssue {
  if (typeof value !== 'string')
    return {
      location,
      field,
      rule: value === undefined ? 'required' : 'type',
      message: 'must be a session id, short id or tmux name',
    };
  if (FULL.test(value)) return { kind: 'full', id: value };
  if (SHORT.test(value)) return { kind: 'short', short: value };
  const m = value.match(NAME);
  if (m) return { kind: 'short', short: m[1] };
  return {
    location,
    field,
    rule: value.length > MAX_REF ? 'length' : 'pattern',
    message: 'must be a full session id (lower-case UUID), its first 8 hex digits, or mas-<8 hex>',
    ...(value.length <= 64 ? { received: value } : {}),
  };
}

export function parseRefOrThrow(
  value: unknown,
  location: ValidationIssue['location'],
  field: string,
): SessionRef {
  const r = parseRef(value, location, field);
  if ('location' in r) throw new ValidationError([r]);
  return r;
}

/** Exact matching only: never prefix, substring or pattern (§4.1, §8.3). */
export function resolveRef(snap: Snapshot, ref: SessionRef, raw: string): KnownSession {
  const hits = snap.sessions.filter((s) =>
    ref.kind === 'full' ? s.id === ref.id : s.shortId === ref.short,
  );
  if (hits.length === 0)
    throw new NotFoundError('SESSION_NOT_FOUND', 'Session not found', { sessionId: raw });
  if (hits.length > 1)
    throw new ConflictError('SESSION_ID_AMBIGUOUS', 'Session reference matches several sessions', {
      sessionId: raw,
      candidates: hits.map((h) => h.id).sort(),
    });
  return hits[0];
}
