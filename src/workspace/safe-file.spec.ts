import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { mkfifoSync } from '../../test/support/mkfifo';
import { readSafe } from './safe-file';

describe(readSafe.name, () => {
  let dir: string;
  const file = (name: string, data: string | Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, data);
    return p;
  };
  beforeAll(() => (dir = mkdtempSync('/tmp/msf-')));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads small and multi-buffer files byte-exact, up to exactly the cap', async () => {
    expect(await readSafe(file('a', 'KEY=v\n'), 100)).toMatchObject({
      ok: true,
      text: 'KEY=v\n',
      size: 6,
    });
    const big = 'é'.repeat(150_000); // 300 KB: several 64 KiB reads after the first
    expect(await readSafe(file('big', big), 300_000)).toMatchObject({ ok: true, text: big });
    expect(await readSafe(file('cap', 'x'.repeat(10)), 10)).toMatchObject({
      ok: true,
      text: 'x'.repeat(10),
    });
  });

  it('refuses what is over the cap, not UTF-8, not a regular file, or a symlink; drops a BOM', async () => {
    expect(await readSafe(file('over', 'x'.repeat(11)), 10)).toEqual({
      ok: false,
      reason: 'too_large',
    });
    expect(await readSafe(file('bad', Buffer.from([0x61, 0xff, 0x62])), 10)).toEqual({
      ok: false,
      reason: 'encoding',
    });
    expect(await readSafe(file('bom', '\ufeffhi'), 10)).toMatchObject({ ok: true, text: 'hi' });
    symlinkSync(path.join(dir, 'a'), path.join(dir, 'link'));
    expect(await readSafe(path.join(dir, 'link'), 100)).toEqual({
      ok: false,
      reason: 'not_regular',
    });
    mkfifoSync(path.join(dir, 'fifo'));
    expect(await readSafe(path.join(dir, 'fifo'), 100)).toEqual({
      ok: false,
      reason: 'not_regular',
    });
    expect(await readSafe(path.join(dir, 'none'), 100)).toEqual({ ok: false, reason: 'missing' });
  });
});
