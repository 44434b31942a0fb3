import { closeSync, constants as C, fstatSync, openSync, readSync } from 'node:fs';
import type { TranscriptGap, TranscriptState } from './transcript-file';

/** Larger than any state file the service writes (256 gaps); a bigger one is not ours. */
const MAX_STATE_BYTES = 256 * 1024;

const isGap = (g: unknown): g is TranscriptGap => {
  const x = g as TranscriptGap;
  return (
    typeof x === 'object' &&
    x !== null &&
    Number.isSafeInteger(x.offset) &&
    x.offset >= 0 &&
    typeof x.since === 'string' &&
    typeof x.until === 'string'
  );
};

/**
 * A regular file's bytes, opened without following a symlink and bounded (§6.2); undefined when
 * absent. Synchronous on purpose: a transcript read takes state and files in one turn of the loop,
 * so the capture (also synchronous) cannot roll the files over in between.
 */
export function readSmallFile(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > max) return undefined;
    const buf = Buffer.alloc(st.size);
    const n = readSync(fd, buf, 0, st.size, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** `<agentId>.json`, or a fresh state when absent or not ours (offsets then start at 0). */
export function readState(file: string): TranscriptState {
  const raw = readSmallFile(file, MAX_STATE_BYTES);
  try {
    const v = raw && (JSON.parse(raw.toString('utf8')) as TranscriptState);
    if (v && Number.isSafeInteger(v.base) && v.base >= 0 && Array.isArray(v.gaps))
      return { base: v.base, gaps: v.gaps.filter(isGap) };
  } catch {
    /* not ours: start afresh */
  }
  return { base: 0, gaps: [] };
}
