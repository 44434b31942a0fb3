import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import * as path from 'node:path';
import { CheckedDir, UnsafeDirError, withCheckedDir } from './checked-dir';

describe(CheckedDir.name, () => {
  let root: string;
  let n = 0;
  const fresh = () => {
    const dir = path.join(root, `s${++n}`);
    const decoy = path.join(root, `decoy${n}`);
    mkdirSync(dir);
    mkdirSync(decoy);
    writeFileSync(path.join(decoy, 'f'), 'theirs');
    return { dir, decoy };
  };
  const swap = (dir: string, decoy: string) => {
    renameSync(dir, `${dir}.moved`);
    symlinkSync(decoy, dir);
  };
  beforeAll(() => (root = mkdtempSync('/tmp/mcd-')));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('replaces a file atomically through the descriptor, leaving no temporary file', async () => {
    const { dir } = fresh();
    writeFileSync(path.join(dir, 'f'), 'old');
    await withCheckedDir(dir, (d) => d.replace('f', 'new'));
    expect(readFileSync(path.join(dir, 'f'), 'utf8')).toBe('new');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('refuses to open a symlink or a path with a symlinked parent', async () => {
    const { dir, decoy } = fresh();
    symlinkSync(decoy, `${dir}.link`);
    await expect(CheckedDir.open(`${dir}.link`)).rejects.toBeInstanceOf(UnsafeDirError);
    mkdirSync(path.join(decoy, 'child'));
    await expect(CheckedDir.open(path.join(`${dir}.link`, 'child'))).rejects.toBeInstanceOf(
      UnsafeDirError,
    );
  });

  it('#14 A10 a directory swapped for a symlink after the check is refused, and the link target is never written', async () => {
    const { dir, decoy } = fresh();
    const d = await CheckedDir.open(dir);
    try {
      swap(dir, decoy);
      await expect(d.replace('f', 'redirected?')).rejects.toBeInstanceOf(UnsafeDirError);
      await expect(d.create('g', 'redirected?', 0o644)).rejects.toBeInstanceOf(UnsafeDirError);
    } finally {
      await d.close();
    }
    expect(readFileSync(path.join(decoy, 'f'), 'utf8')).toBe('theirs');
    expect(readdirSync(decoy)).toEqual(['f']);
  });

  it('#14 A10 a swap between the check and the write lands in the checked directory, not in the link target', async () => {
    const { dir, decoy } = fresh();
    const d = await CheckedDir.open(dir);
    try {
      await d.verify();
      swap(dir, decoy); // the worst moment: after verify(), before the write
      writeFileSync(d.at('f'), 'mine');
    } finally {
      await d.close();
    }
    expect(readFileSync(path.join(decoy, 'f'), 'utf8')).toBe('theirs');
    expect(readFileSync(path.join(`${dir}.moved`, 'f'), 'utf8')).toBe('mine');
  });
});
