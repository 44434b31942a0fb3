import { closeSync, constants as C, fstatSync, openSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { escapeEnd, pastEscapeAt, stripEscapes } from './escapes';
import { logName, oldLogName, stateName, type TranscriptGap } from './transcript-file';
import { readState } from './transcript-state';
import { insideLength, seqLength, wholeCharsLength } from './utf8-bounds';

export type TranscriptFormat = 'raw' | 'text' | 'base64';

export interface TranscriptQuery {
  from?: number;
  limit: number;
  format: TranscriptFormat;
  /** Nothing more will be written (the session is not live): an incomplete last character is invalid. */
  final?: boolean;
}

export interface TranscriptRead {
  from: number;
  next: number;
  start: number;
  end: number;
  data: string;
  truncated: boolean;
  gaps: TranscriptGap[];
}

/** `from` lies beyond the newest byte held (400, rule range). */
export class TranscriptRangeError extends Error {
  constructor(readonly end: number) {
    super(`from is beyond the end of the transcript (${end})`);
  }
}

/** An escape sequence longer than this is not waited for: the read goes on without it. */
const ESCAPE_SLACK = 4096;

/** The two generations as one byte range: `.log.1` holds [start, base), `.log` [base, end). */
class Generations {
  readonly start: number;
  readonly end: number;
  private readonly fds: { fd: number; at: number; size: number }[] = [];

  constructor(dir: string, agentId: string, base: number) {
    const cur = openLog(path.join(dir, logName(agentId)));
    const old = openLog(path.join(dir, oldLogName(agentId)));
    if (old) this.fds.push({ ...old, at: Math.max(0, base - old.size) });
    if (cur) this.fds.push({ ...cur, at: base });
    this.start = this.fds[0]?.at ?? base;
    this.end = base + (cur?.size ?? 0);
  }

  bytes(from: number, to: number): Buffer {
    const out = Buffer.alloc(Math.max(0, to - from));
    for (const g of this.fds) {
      const a = Math.max(from, g.at);
      const b = Math.min(to, g.at + g.size);
      if (a < b) readSync(g.fd, out, a - from, b - a, a - g.at);
    }
    return out;
  }

  close(): void {
    for (const g of this.fds) closeSync(g.fd);
  }
}

function openLog(file: string): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return undefined;
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    return undefined;
  }
  return { fd, size: st.size };
}

/**
 * One read of §10.2 from `<session dir>/output`. Synchronous: state and files are taken in one turn
 * of the event loop, so the capture cannot roll the files over between them.
 */
export function readTranscript(dir: string, agentId: string, q: TranscriptQuery): TranscriptRead {
  const state = readState(path.join(dir, stateName(agentId)));
  const g = new Generations(dir, agentId, state.base);
  try {
    const { start, end } = g;
    if (q.from !== undefined && q.from > end) throw new TranscriptRangeError(end);
    const truncated = q.from !== undefined && q.from < start;
    let from = q.from === undefined ? Math.max(start, end - q.limit) : Math.max(start, q.from);
    const chars = q.format !== 'base64';
    // a `from` inside a character moves forward to the next one
    if (chars) {
      const before = g.bytes(Math.max(start, from - 3), from);
      from += insideLength(before, g.bytes(from, Math.min(end, from + 3)));
    }
    if (q.format === 'text') from = pastEscape(g, from, end);
    const body = readBody(g, from, end, q);
    const next = from + body.used;
    return {
      from,
      next,
      start,
      end,
      data: body.data,
      truncated,
      gaps: state.gaps.filter((x) => x.offset >= from && x.offset <= next),
    };
  } finally {
    g.close();
  }
}

function readBody(
  g: Generations,
  from: number,
  end: number,
  q: TranscriptQuery,
): { data: string; used: number } {
  let buf = g.bytes(from, Math.min(end, from + q.limit));
  if (q.format === 'base64') return { data: buf.toString('base64'), used: buf.length };
  let used = wholeCharsLength(buf);
  // bytes available always give at least one character, whatever the limit
  if (used === 0 && buf.length > 0) {
    buf = g.bytes(from, Math.min(end, from + seqLength(buf[0])));
    used = wholeCharsLength(buf);
  }
  // the writer is gone: a character cut off at the end will never be completed, so it reads as one
  // U+FFFD and a reader following `next` reaches `end` (A14d-5)
  if (used === 0 && q.final && from + buf.length === end)
    return { data: '\ufffd', used: buf.length };
  buf = buf.subarray(0, used);
  if (q.format === 'raw') return { data: decode(buf), used };
  // a sequence incomplete at the end of the file is left for the next read, like any other
  let s = stripEscapes(buf, false);
  if (s.used === 0 && buf.length > 0) {
    // an escape sequence longer than the limit: read on to its end (at most ESCAPE_SLACK more) and
    // one character after it, so the read advances without taking much more than the limit
    const more = g.bytes(from, Math.min(end, from + ESCAPE_SLACK));
    const e = escapeEnd(more, 0);
    if (e < 0 && from + more.length === end) return { data: '', used: 0 };
    const after = e >= 0 && more[e] !== undefined && more[e] !== 0x1b ? seqLength(more[e]) : 0;
    const upto = e < 0 ? more.length : Math.min(more.length, e + after);
    s = stripEscapes(more.subarray(0, wholeCharsLength(more.subarray(0, upto))), true);
  }
  return { data: decode(s.out).replace(/\r\n/g, '\n'), used: s.used };
}

/** A text read never starts inside an escape sequence: `from` moves past one that spans it. */
function pastEscape(g: Generations, from: number, end: number): number {
  const lo = Math.max(g.start, from - ESCAPE_SLACK);
  const hi = Math.min(end, from + ESCAPE_SLACK);
  if (from <= lo || from >= hi) return from;
  return lo + pastEscapeAt(g.bytes(lo, hi), from - lo);
}

const decoder = new TextDecoder('utf-8');
const decode = (b: Buffer): string => decoder.decode(b);
