import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { MasConfig } from '../../config/mas-config';
import type { TmuxGateway } from '../../tmux/tmux.gateway';
import type { ControlProcess } from '../../tmux/tmux-runner';
import type { TmuxTree } from '../../tmux/tmux.types';
import { CaptureService } from './capture.service';

/** A capture client whose stdout and exit the spec drives (the real one: transcript-reattach e2e). */
class Proc implements ControlProcess<Buffer> {
  static next = 1000;
  pid = Proc.next++;
  private out?: (b: Buffer) => void;
  private exits: (() => void)[] = [];
  gone = false;
  stdin = { write: () => true, end: () => this.exit() };
  stdout = { on: (_: 'data', fn: (b: Buffer) => void) => (this.out = fn) };
  onExit(fn: () => void) {
    if (this.gone) fn();
    else this.exits.push(fn);
  }
  signal() {}
  emit(s: string) {
    this.out!(Buffer.from(s));
  }
  /** The attach acknowledged and the session set (T-71): the client is capturing. */
  ack() {
    this.emit('%begin 1 1 0\n%end 1 1 0\n%session-changed $1 mas-0000aaaa\n');
  }
  exit() {
    if (this.gone) return;
    this.gone = true;
    for (const fn of this.exits.splice(0)) fn();
  }
}

const tree = (pid = 7): TmuxTree =>
  ({
    sessions: [
      {
        id: '$3',
        name: 'mas-aaaaaaaa',
        serverPid: pid,
        created: 1,
        tagSessionId: 's1',
        tagWorkspace: '',
        windows: [{ panes: [{ id: '%1', agentId: '10' }] }],
      },
    ],
  }) as unknown as TmuxTree;
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CaptureService re-attach (§10.2, §10.4)', () => {
  let dir: string;
  let procs: Proc[];
  let listing: () => Promise<TmuxTree>;
  let svc: CaptureService;
  const gateway = () =>
    ({
      captureNames: new Set<string>(),
      openCapture: () => {
        const p = new Proc();
        procs.push(p);
        queueMicrotask(() => p.ack());
        return p;
      },
      listSession: () => listing(),
    }) as unknown as TmuxGateway;
  const cfg = { activityIdleMs: 500, outputMaxBytes: 1 << 20, workspaceRoot: '/ws' } as MasConfig;
  const gaps = () =>
    JSON.parse(readFileSync(path.join(dir, 'output', '10.json'), 'utf8')).gaps as unknown[];

  beforeEach(async () => {
    dir = mkdtempSync('/tmp/cap-');
    procs = [];
    listing = async () => tree();
    svc = new CaptureService(cfg, gateway());
    expect(await svc.attach('s1', '$3', 'mas-aaaaaaaa', dir)).toBe(true);
    svc.learn('s1', tree());
    procs[0].emit('%output %1 hi\n');
  });

  afterEach(() => {
    svc.onModuleDestroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an attach that ends after shutdown captures nothing (no file or FIFO left open: Jest waited on them)', async () => {
    const late = svc.attach('s2', '$4', 'mas-bbbbbbbb', dir);
    svc.onModuleDestroy();
    expect(await late).toBe(false);
    expect(svc.isCapturing('s2')).toBe(false);
    expect(procs).toHaveLength(1);
  });

  it('a client that exits unasked: activity unknown until a new client is on; the gap is recorded before its bytes', async () => {
    expect(svc.activity('s1', '10', true).activity).toBe('working');
    procs[0].exit();
    expect(svc.isCapturing('s1')).toBe(false);
    expect(svc.activity('s1', '10', true).activity).toBe('unknown');
    await tick(400); // the first attempt comes after 0.25 s
    expect(procs).toHaveLength(2);
    expect(svc.isCapturing('s1')).toBe(true);
    const seen: number[] = [];
    svc.onOutput((o) => seen.push(o.from));
    procs[1].emit('%output %1 again\n');
    expect(seen).toEqual([2]);
    expect(gaps()).toEqual([expect.objectContaining({ offset: 2 })]);
  });

  it('no re-attach to a session gone, or to the same $N on another server', async () => {
    listing = async () => tree(8); // kill-server, then a new server reusing $3 and the name
    procs[0].exit();
    await tick(400);
    expect(procs).toHaveLength(1);
    expect(svc.isCapturing('s1')).toBe(false);
    await tick(600); // given up: no further attempt
    expect(procs).toHaveLength(1);
  });

  it('a listing that fails is retried at the next delay', async () => {
    let calls = 0;
    listing = async () => {
      if (++calls === 1) throw new Error('tmux did not answer');
      return tree();
    };
    procs[0].exit();
    await tick(400);
    expect(procs).toHaveLength(1);
    await tick(900); // 0.25 s, then 0.5 s
    expect(calls).toBe(2);
    expect(procs).toHaveLength(2);
  });

  it('detach and shutdown cancel a pending re-attach', async () => {
    procs[0].exit();
    svc.detach('s1');
    await tick(400);
    expect(procs).toHaveLength(1);
    expect(await svc.attach('s1', '$3', 'mas-aaaaaaaa', dir)).toBe(true);
    procs[1].exit();
    svc.onModuleDestroy();
    await tick(400);
    expect(procs).toHaveLength(2);
  });

  it('a client closed by detach is not re-attached', async () => {
    svc.detach('s1');
    expect(procs[0].gone).toBe(true);
    await tick(400);
    expect(procs).toHaveLength(1);
  });
});
