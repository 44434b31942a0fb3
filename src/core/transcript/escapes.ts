const ESC = 0x1b;
const BEL = 0x07;
const BACKSLASH = 0x5c;

/** Index just past the escape sequence starting at `i` (an ESC), or -1 when `buf` ends inside it. */
export function escapeEnd(buf: Buffer, i: number): number {
  const kind = buf[i + 1];
  if (kind === undefined) return -1;
  if (kind === 0x5b) {
    // CSI: parameters and intermediates, then one final byte 0x40-0x7e (ECMA-48 §5.4)
    for (let j = i + 2; j < buf.length; j++) if (buf[j] >= 0x40 && buf[j] <= 0x7e) return j + 1;
    return -1;
  }
  if (kind === 0x5d || kind === 0x50 || kind === 0x58 || kind === 0x5e || kind === 0x5f) {
    // OSC, DCS, SOS, PM, APC: a string ended by ST (ESC \), OSC also by BEL
    for (let j = i + 2; j < buf.length; j++) {
      if (kind === 0x5d && buf[j] === BEL) return j + 1;
      if (buf[j] === ESC) return j + 1 < buf.length ? (buf[j + 1] === BACKSLASH ? j + 2 : j) : -1;
    }
    return -1;
  }
  // ESC, intermediates 0x20-0x2f, one final byte (ESC ( B, ESC 7, ESC =, ...)
  let j = i + 1;
  while (j < buf.length && buf[j] >= 0x20 && buf[j] <= 0x2f) j++;
  return j < buf.length ? j + 1 : -1;
}

/**
 * The bytes with every escape sequence removed (§10.2 `text`). `used` is how many input bytes that
 * covers: an escape sequence incomplete at the end is left for the next read, never cut in half.
 */
export function stripEscapes(buf: Buffer, complete: boolean): { out: Buffer; used: number } {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = buf.indexOf(ESC); i >= 0; i = buf.indexOf(ESC, from)) {
    parts.push(buf.subarray(from, i));
    const end = escapeEnd(buf, i);
    if (end < 0) {
      if (complete)
        from = buf.length; // the file ends inside it: nothing more will come in this range
      else return { out: Buffer.concat(parts), used: i };
      break;
    }
    from = end;
  }
  if (from < buf.length) parts.push(buf.subarray(from));
  return { out: Buffer.concat(parts), used: buf.length };
}

/**
 * Where a text read starting at `at` of `buf` may begin: past the end of an escape sequence that
 * started before `at` and is not over yet (a `from` or a tail inside one), else `at` itself.
 */
export function pastEscapeAt(buf: Buffer, at: number): number {
  const i = buf.lastIndexOf(ESC, at - 1);
  if (i < 0) return at;
  const end = escapeEnd(buf, i);
  return end > at ? end : at;
}
