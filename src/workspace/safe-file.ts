import { constants as C, promises as fsp } from 'node:fs';

export type SafeRead =
  | { ok: true; text: string; ino: number; size: number; mtimeMs: number }
  | { ok: false; reason: 'missing' | 'not_regular' | 'too_large' | 'encoding' | 'unreadable' };

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a metadata file the safe way (contract §6.2, R9): no final symlink followed (O_NOFOLLOW),
 * non-blocking so a FIFO cannot hang us, the open descriptor checked to be a regular file within
 * `cap`, at most cap + 1 bytes read, strict UTF-8 with a leading BOM dropped.
 */
export async function readSafe(path: string, cap: number): Promise<SafeRead> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK);
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, reason: 'not_regular' };
    if (st.size > cap) return { ok: false, reason: 'too_large' };
    const bytes = await readUpTo(fh, st.size, cap);
    if (!bytes) return { ok: false, reason: 'too_large' };
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      return { ok: false, reason: 'encoding' };
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { ok: true, text, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing' };
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO')
      return { ok: false, reason: 'not_regular' };
    return { ok: false, reason: 'unreadable' };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/**
 * Reads to EOF in buffers sized from `fstat`, not from the cap: a cap-sized buffer per read was an
 * 8 MiB zero-filled allocation per snapshot for the index. Null once more than `cap` bytes arrive
 * (the file grew after the stat).
 */
async function readUpTo(fh: fsp.FileHandle, size: number, cap: number): Promise<Buffer | null> {
  const parts: Buffer[] = [];
  let total = 0;
  let want = Math.min(size, cap) + 1; // one byte over the stat: growth shows at once
  for (;;) {
    const buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await fh.read(buf, 0, want, total);
    if (bytesRead === 0) break;
    parts.push(buf.subarray(0, bytesRead));
    total += bytesRead;
    if (total > cap) return null;
    if (bytesRead < want) break; // a regular file reads short only at its end
    want = Math.min(cap + 1 - total, 64 * 1024);
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
}

export const CAPS = {
  session: 64 * 1024,
  masSession: 64 * 1024,
  metadata: 256 * 1024,
  config: 1024 * 1024,
  index: 8 * 1024 * 1024,
} as const;
