import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { ConflictError, MasError, ValidationError } from '../errors/mas-error';

interface Entry {
  route: string;
  bodyHash: string;
  expires: number;
  outcome: Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>;
}

/** §4.12: the one description of a key, for validation and the OpenAPI document. */
export const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX = 10_000;

/** Canonical JSON: keys sorted, so equal bodies hash equally whatever their key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** Records whether an error is worth replaying (contract §4.12): 502, and 504 unless nothing happened. */
function recordable(e: unknown): boolean {
  if (!(e instanceof MasError)) return false;
  if (e.code === 'TMUX_ERROR' || e.code === 'AGENT_START_FAILED') return true;
  return e.code === 'TMUX_TIMEOUT' && e.details?.outcome !== 'none';
}

/** Idempotency-Key for POST /runs and /message: replay, wait for in-flight duplicates, refuse reuse. */
@Injectable()
export class IdempotencyService {
  private readonly entries = new Map<string, Entry>();

  constructor(@Inject(MAS_CONFIG) private readonly cfg: MasConfig) {}

  static validate(key: unknown): string | undefined {
    if (key === undefined || key === '') return undefined;
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
      throw new ValidationError([
        {
          location: 'header',
          field: 'Idempotency-Key',
          rule: 'pattern',
          message: `must match ${IDEMPOTENCY_KEY.source}`,
          ...(typeof key === 'string' && key.length <= 64 ? { received: key } : {}),
        },
      ]);
    }
    return key;
  }

  /**
   * Runs `fn` once per (key, route, body); `replayed` is called when a recorded answer is returned.
   * A recorded 504 is replayed only after `recover` (when given) found nothing: the timed-out write
   * may have happened after all, and then its current result is the answer (§4.12).
   */
  async run<T>(
    key: string | undefined,
    route: string,
    body: unknown,
    fn: () => Promise<T>,
    replayed: () => void,
    recover?: () => Promise<T | undefined>,
  ): Promise<T> {
    if (!key) return fn();
    const now = Date.now();
    const bodyHash = createHash('sha256').update(canonical(body)).digest('hex');
    const existing = this.entries.get(key);
    if (existing && existing.expires > now) {
      if (existing.route !== route || existing.bodyHash !== bodyHash)
        throw new ConflictError(
          'IDEMPOTENCY_KEY_REUSED',
          'Idempotency-Key was used with another request',
          {},
        );
      this.entries.delete(key);
      this.entries.set(key, existing); // most recently used last
      const o = await existing.outcome;
      if (this.entries.get(key) === existing) {
        const found =
          !o.ok && recover && o.error instanceof MasError && o.error.code === 'TMUX_TIMEOUT'
            ? await recover()
            : undefined;
        replayed();
        if (found !== undefined) return found;
        if (o.ok) return o.value as T;
        throw o.error;
      }
      return this.run(key, route, body, fn, replayed, recover); // the first attempt was not recorded: run again
    }
    const outcome = fn().then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    const entry: Entry = { route, bodyHash, expires: now + this.cfg.idempotencyTtlMs, outcome };
    this.entries.set(key, entry);
    while (this.entries.size > MAX) this.entries.delete(this.entries.keys().next().value as string);
    const o = await outcome;
    if (!o.ok && !recordable(o.error)) this.entries.delete(key);
    if (o.ok) return o.value as T;
    throw o.error;
  }
}
