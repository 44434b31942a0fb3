/**
 * No request shape holds a list longer than 5 (§4.9: units 1–4, workers 1–5), so a longer one is
 * invalid whatever its elements. Cutting every list to {@link MAX_ITEMS} before validation keeps
 * the issue (`length`, or `type` where an object was due) and spares checking 100,000 elements one
 * by one: `{"agents":{"units":[{} ×100000]}}` (300 KB) took 3.7 s (attack A13-1c). A copy: the
 * parsed body stays whole for the Idempotency-Key fingerprint (§4.12).
 */
export const MAX_ITEMS = 16;

export function capArrays(value: unknown): unknown {
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map(capArrays);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = capArrays(v);
  return out;
}
