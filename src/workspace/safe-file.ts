import { constants as C, promises as fsp } from 'node:fs';

export type SafeRead = { ok: true; text: string; ino: number; size: number; mtimeMs: number } | { ok: false; reason: 'missing' | 'not_regular' | 'too_large' | 'encoding' | 'unreadable' };

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
    const buf = Buffer.alloc(cap + 1);
    const { bytesRead } = await fh.read(buf, 0, cap + 1, 0);
    if (bytesRead > cap) return { ok: false, reason: 'too_large' };
    let text: string;
    try {
      text = decoder.decode(buf.subarray(0, bytesRead));
    } catch {
      return { ok: false, reason: 'encoding' };
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { ok: true, text, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'missing' };
    if (code === 'ELOOP' || code === 'EISDIR' || code === 'ENXIO') return { ok: false, reason: 'not_regular' };
    return { ok: false, reason: 'unreadable' };
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

export const CAPS = {
  session: 64 * 1024,
  masSession: 64 * 1024,
  metadata: 256 * 1024,
  config: 1024 * 1024,
  index: 8 * 1024 * 1024,
} as const;
