/** ISO 8601 UTC with milliseconds (§1.4), or undefined for anything that does not parse. */
export function toIso(v: string | number | undefined): string | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'string' && !/^\d{4}-\d{2}-\d{2}/.test(v)) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/**
 * `startedAt` (§5.6): the first candidate that parses, then tmux `session_created`, then the
 * directory's mtime. Never "Unknown", never unparsable.
 */
export function pickStartedAt(
  candidates: (string | undefined)[],
  tmuxCreated: number | undefined,
  dirMtimeMs: number | undefined,
): string {
  for (const c of candidates) {
    const iso = toIso(c);
    if (iso) return iso;
  }
  if (tmuxCreated) return new Date(tmuxCreated * 1000).toISOString();
  return new Date(dirMtimeMs ?? 0).toISOString();
}
