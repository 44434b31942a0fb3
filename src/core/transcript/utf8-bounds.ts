/** Length of the UTF-8 sequence a lead byte starts; 1 for anything that cannot start one. */
export function seqLength(b: number): number {
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 1;
}

export const isContinuation = (b: number | undefined): boolean =>
  b !== undefined && b >= 0x80 && b <= 0xbf;

/**
 * How many leading bytes of `buf` hold only whole characters: a lead byte whose sequence does not
 * fit is left out. Invalid bytes count as one character each (they read as U+FFFD).
 */
export function wholeCharsLength(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back];
    if (isContinuation(b)) continue;
    const need = seqLength(b);
    return need > back ? buf.length - back : buf.length;
  }
  return buf.length;
}

/**
 * How many continuation bytes the character begun at the end of `prev` still needs (0 when `prev`
 * ends on a whole or an invalid character). A byte stream resumed right after `prev` is inside a
 * character for at most that many bytes; stray continuation bytes are characters of their own.
 */
export function continuationOwed(prev: Buffer): number {
  for (let back = 1; back <= Math.min(3, prev.length); back++) {
    const b = prev[prev.length - back];
    if (isContinuation(b)) continue;
    return Math.max(0, seqLength(b) - back);
  }
  return 0;
}

/** Leading bytes of `buf` that finish the character begun at the end of `prev` (§10.2: a `from` inside one moves past them). */
export function insideLength(prev: Buffer, buf: Buffer): number {
  const owed = continuationOwed(prev);
  let k = 0;
  while (k < owed && k < buf.length && isContinuation(buf[k])) k++;
  return k;
}
