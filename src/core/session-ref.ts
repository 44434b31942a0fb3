import { applyDecorators } from '@nestjs/common';
import { IsString, Matches, MaxLength } from 'class-validator';
import { Required } from '../common/validation/field.decorators';
import { ConflictError, NotFoundError } from '../errors/mas-error';
import type { KnownSession, Snapshot } from './snapshot';

/** A session reference (§4.1), parsed once at the boundary; `raw` is echoed by a 404 or 409. */
export type SessionRef =
  | { kind: 'full'; id: string; raw: string }
  | { kind: 'short'; short: string; raw: string };

const FULL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NAME = /^mas-([0-9a-f]{8})$/;
/** The three accepted forms (full id, short id, tmux name), also published in the OpenAPI document. */
export const SESSION_REF_PATTERN =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|(mas-)?[0-9a-f]{8})$/;
/** The longest accepted form, a full id (A14): anything longer is a `length` problem. */
const MAX_REF = 36;
const WHAT = 'must be a full session id (lower-case UUID), its first 8 hex digits, or mas-<8 hex>';

/** The grammar of §4.1 as validators: the path pipe, the /message body and the /status query. */
export const IsSessionRef = () =>
  applyDecorators(
    Required('must be a session id, short id or tmux name'),
    IsString({ message: 'must be a session id, short id or tmux name' }),
    MaxLength(MAX_REF, { message: WHAT }),
    Matches(SESSION_REF_PATTERN, { message: WHAT }),
  );

/** Converts a reference that {@link IsSessionRef} accepted. */
export function toSessionRef(raw: string): SessionRef {
  if (FULL.test(raw)) return { kind: 'full', id: raw, raw };
  return { kind: 'short', short: raw.match(NAME)?.[1] ?? raw, raw };
}

/** Exact matching only: never prefix, substring or pattern (§4.1, §8.3). */
export function resolveRef(snap: Snapshot, ref: SessionRef): KnownSession {
  const hits = snap.sessions.filter((s) =>
    ref.kind === 'full' ? s.id === ref.id : s.shortId === ref.short,
  );
  if (hits.length === 0)
    throw new NotFoundError('SESSION_NOT_FOUND', 'Session not found', { sessionId: ref.raw });
  if (hits.length > 1)
    throw new ConflictError('SESSION_ID_AMBIGUOUS', 'Session reference matches several sessions', {
      sessionId: ref.raw,
      candidates: hits.map((h) => h.id).sort(),
    });
  return hits[0];
}
