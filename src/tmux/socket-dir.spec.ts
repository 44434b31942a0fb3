import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { parseEnv } from '../config/parse-env';
import { SocketDirGuard } from './socket-dir';

describe('SocketDirGuard: first create on a fresh machine (issue 12 #5, A4)', () => {
  let tmp: string;
  let dir: string;
  const uid = process.getuid!();
  beforeEach(() => {
    tmp = mkdtempSync('/tmp/msd-');
    dir = path.join(tmp, `tmux-${uid}`);
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));
  const misconfigured = { code: 'TMUX_UNAVAILABLE', details: { reason: 'misconfigured' } };

  it('creates a missing directory 0700, as tmux does', async () => {
    await new SocketDirGuard(dir).ensure();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('accepts 0750, refuses 0751 and 0777', async () => {
    mkdirSync(dir);
    chmodSync(dir, 0o750);
    await new SocketDirGuard(dir).ensure();
    for (const mode of [0o751, 0o777]) {
      chmodSync(dir, mode);
      await expect(new SocketDirGuard(dir).ensure()).rejects.toMatchObject(misconfigured);
    }
  });

  it('refuses a directory owned by another uid, and a symlink', async () => {
    mkdirSync(dir, { mode: 0o700 });
    await expect(new SocketDirGuard(dir, uid + 1).ensure()).rejects.toMatchObject(misconfigured);
    const link = path.join(tmp, 'link');
    symlinkSync(dir, link);
    await expect(new SocketDirGuard(link).ensure()).rejects.toMatchObject(misconfigured);
  });

  it('looks once, and again only after recheck()', async () => {
    const g = new SocketDirGuard(dir);
    await g.ensure();
    chmodSync(dir, 0o777);
    await g.ensure(); // no stat per call
    g.recheck();
    await expect(g.ensure()).rejects.toMatchObject(misconfigured);
  });

  it('leaves an explicit MAS_TMUX_SOCKET alone', async () => {
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    await SocketDirGuard.of(parseEnv({ MAS_TMUX_SOCKET: path.join(dir, 's') }, '/')).ensure();
    await expect(
      SocketDirGuard.of(parseEnv({ TMUX_TMPDIR: tmp }, '/')).ensure(),
    ).rejects.toMatchObject(misconfigured);
  });
});
