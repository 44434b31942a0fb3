import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  closeSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import * as path from 'node:path';
import { Logger } from '@nestjs/common';
import { CheckedDir } from '../../workspace/checked-dir';
import { AgentPipes, findPipeBinaries } from './capture-pipe';

describe('AgentPipes (§10.2, A10, decision 0008)', () => {
  const bins = findPipeBinaries()!;
  let root: string;
  let dir: CheckedDir;
  let pipes: AgentPipes;
  const got: Array<[string, string]> = [];

  beforeEach(async () => {
    root = mkdtempSync('/tmp/cpipe-');
    mkdirSync(path.join(root, 'output'), { mode: 0o700 });
    dir = await CheckedDir.open(path.join(root, 'output'));
    got.length = 0;
    pipes = new AgentPipes(dir, bins, (a, b) => got.push([a, b.toString()]), new Logger('t'), 's');
  });

  afterEach(async () => {
    pipes.close();
    await dir.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('makes a 0600 FIFO, answers `exec <tee> <its absolute path>`, and reads what is written into it', async () => {
    const cmds = await pipes.prepare(['10']);
    expect(cmds.get('10')).toMatch(
      new RegExp(`^exec /(usr/)?bin/tee ${path.join(root, 'output', '10.fifo')}$`),
    );
    const st = lstatSync(path.join(root, 'output', '10.fifo'));
    expect({ fifo: st.isFIFO(), mode: st.mode & 0o777 }).toEqual({ fifo: true, mode: 0o600 });
    const fd = openSync(cmds.get('10')!.split(' ')[2], 'w');
    writeSync(fd, 'hello');
    closeSync(fd);
    const until = Date.now() + 2000;
    while (!got.length && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual([['10', 'hello']]);
  });

  it('two prepares at once open each FIFO once, and close leaves none open (Jest waited on a leaked one)', async () => {
    await Promise.all([pipes.prepare(['10', '11']), pipes.prepare(['10', '11'])]);
    const fifo = path.join(root, 'output', '10.fifo');
    const openOn = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === fifo;
        } catch {
          return false;
        }
      }).length;
    expect(openOn()).toBe(1);
    pipes.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(openOn()).toBe(0);
  });

  it('replaces a symlink or a regular file where the FIFO should be by a FIFO of ours, never writing through it (A10, A14d-4)', async () => {
    const bait = path.join(root, 'bait');
    writeFileSync(bait, 'x');
    symlinkSync(bait, path.join(root, 'output', '11.fifo'));
    writeFileSync(path.join(root, 'output', '12.fifo'), 'regular', { mode: 0o600 });
    const cmds = await pipes.prepare(['11', '12', '13']);
    expect([...cmds.keys()]).toEqual(['11', '12', '13']);
    for (const id of ['11', '12'])
      expect(lstatSync(path.join(root, 'output', `${id}.fifo`)).isFIFO()).toBe(true);
    expect(readFileSync(bait, 'utf8')).toBe('x');
  });
});
