import { Logger } from '@nestjs/common';
import { TmuxError } from '../errors/mas-error';
import { FS, RS, TREE_FIELDS } from './tmux-format';
import { FakeControlClient } from '../../test/support/fake-control-client';
import { ScriptedRunner } from '../../test/support/scripted-runner';
import { parseEnv } from '../config/parse-env';
import { TmuxGateway } from './tmux.gateway';

/** The per-call nonce of a listing (the 12 hex digits after RS in its -F template). */
const nonceOf = (args: string[]): string =>
  args.includes('-F') ? args[args.indexOf('-F') + 1].slice(RS.length, RS.length + 12) : '';

function row(
  session: number,
  pane: number,
  nonce = '',
  extra: Record<string, string> = {},
): string {
  const v: Record<string, string> = Object.fromEntries(TREE_FIELDS.map((f) => [f, '']));
  Object.assign(v, {
    session_id: `$${session}`,
    session_name: `mas-${String(session).padStart(8, '0')}`,
    window_id: `@${session}`,
    window_index: '0',
    window_name: 'unit1',
    pane_id: `%${session * 100 + pane}`,
    pane_index: String(pane),
    session_created: '1',
    window_panes: '14',
    ...extra,
  });
  return RS + nonce + TREE_FIELDS.map((f) => v[f]).join(FS);
}

describe(TmuxGateway.name, () => {
  let sut: TmuxGateway;
  afterEach(() => sut.onModuleDestroy());

  it('reads 50 sessions × 14 panes with exactly one list-panes call (R1)', async () => {
    const out = (nonce: string) =>
      Array.from({ length: 50 }, (_, s) =>
        Array.from({ length: 14 }, (_, p) => row(s, p, nonce)).join('\n'),
      ).join('\n') + '\n';
    const runner = new ScriptedRunner((args) => ({ stdout: out(nonceOf(args)) }));
    sut = new TmuxGateway(runner);
    const tree = await sut.listTree();
    expect(tree.sessions).toHaveLength(50);
    expect(tree.sessions[7].windows[0].panes).toHaveLength(14);
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0].slice(0, 4)).toEqual([
      'list-panes',
      '-a',
      '-f',
      '#{m:mas-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f],#{session_name}}',
    ]);
  });

  it('a raw value holding LF and RS cannot start a record: the per-call nonce (attack finding 1)', async () => {
    // session 1's window name ends in LF + a forged record for $2, without this call's nonce
    const forged = (nonce: string) => `${row(1, 0, nonce)}\n${row(2, 0)}\n${row(3, 0, nonce)}\n`;
    sut = new TmuxGateway(new ScriptedRunner((args) => ({ stdout: forged(nonceOf(args)) })));
    const tree = await sut.listTree();
    expect(tree.sessions.map((x) => x.id)).toEqual(['$3']); // the forged line joined session 1's record, which is dropped
  });

  it('a pane dead without exit status makes tmux reap its children, then lists again (decision 0008)', async () => {
    let reaped = false;
    const runner = new ScriptedRunner((args) => {
      if (args[0] === 'run-shell') reaped = true;
      const dead = reaped
        ? { pane_dead: '1', pane_dead_status: '3' }
        : { pane_dead: '1', pane_dead_status: '' };
      return { stdout: args[0] === 'run-shell' ? '' : `${row(1, 0, nonceOf(args), dead)}\n` };
    });
    sut = new TmuxGateway(runner);
    expect((await sut.listTree()).sessions[0].windows[0].panes[0].deadStatus).toBe(3);
    expect(runner.calls.map((c) => c.join(' '))).toEqual([
      expect.stringMatching(/^list-panes -a /),
      'run-shell exit 0',
      expect.stringMatching(/^list-panes -a /),
    ]);
    // a pane the nudge did not help costs one more listing at most once a second
    reaped = false;
    runner.calls = [];
    expect((await sut.listSession('mas-00000001')).sessions[0].windows[0].panes[0].deadStatus).toBe(
      null,
    );
    expect(runner.calls.map((c) => c[0])).toEqual(['list-panes']);
  });

  it('treats "no server running" as an empty tree', async () => {
    sut = new TmuxGateway(
      new ScriptedRunner(() => ({ exitCode: 1, stderr: 'no server running on /tmp/x/s\n' })),
    );
    expect(await sut.listTree()).toEqual({ sessions: [] });
  });

  it('retries a read once after a transient failure, never a write', async () => {
    let n = 0;
    const runner = new ScriptedRunner(() =>
      n++ === 0 ? { exitCode: 1, stderr: 'server exited unexpectedly\n' } : { stdout: '' },
    );
    sut = new TmuxGateway(runner);
    await sut.listTree();
    expect(runner.calls).toHaveLength(2);
    n = 0;
    runner.calls = [];
    await expect(sut.pasteMany('b', [{ paneId: '%1', inMode: false }])).rejects.toBeInstanceOf(
      TmuxError,
    );
    expect(runner.calls).toHaveLength(1);
  });

  it('client outcomes never open the breaker; infrastructure failures do, then it fails fast', async () => {
    let mode: 'gone' | 'broken' = 'gone';
    const runner = new ScriptedRunner(() =>
      mode === 'gone'
        ? { exitCode: 1, stderr: "can't find pane: %9\n" }
        : { exitCode: 1, stderr: 'something odd\n' },
    );
    sut = new TmuxGateway(runner);
    for (let i = 0; i < 20; i++)
      await sut.pasteMany('b', [{ paneId: '%9', inMode: false }]).catch(() => undefined);
    expect(sut.breaker.opened).toBe(false);
    mode = 'broken';
    for (let i = 0; i < 30; i++)
      await sut.pasteMany('b', [{ paneId: '%9', inMode: false }]).catch(() => undefined);
    expect(sut.breaker.opened).toBe(true);
    const before = runner.calls.length;
    await expect(sut.listTree()).rejects.toMatchObject({
      code: 'TMUX_UNAVAILABLE',
      details: { reason: 'breaker_open' },
    });
    expect(runner.calls.length).toBe(before);
  });

  it('pastes into many panes with one client and names the pane where tmux stopped', async () => {
    const runner = new ScriptedRunner(() => ({ exitCode: 1, stderr: "can't find pane: %7\n" }));
    sut = new TmuxGateway(runner);
    const out = await sut.pasteMany('mas-b', [
      { paneId: '%3', inMode: true },
      { paneId: '%7', inMode: false },
      { paneId: '%9', inMode: false },
    ]);
    expect(out.failedPane).toBe('%7');
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]).toEqual([
      'copy-mode',
      '-q',
      '-t',
      '%3',
      ';',
      'paste-buffer',
      '-p',
      '-b',
      'mas-b',
      '-t',
      '%3',
      ';',
      'paste-buffer',
      '-p',
      '-b',
      'mas-b',
      '-t',
      '%7',
      ';',
      'paste-buffer',
      '-p',
      '-b',
      'mas-b',
      '-t',
      '%9',
    ]);
  });

  it('after shutdown, a call still in flight answers TMUX_UNAVAILABLE, never a bare error (R12)', async () => {
    const runner = new ScriptedRunner(() => ({}));
    sut = new TmuxGateway(runner);
    sut.onModuleDestroy();
    await expect(sut.listTree()).rejects.toMatchObject({
      code: 'TMUX_UNAVAILABLE',
      details: { reason: 'transient' },
    });
    expect(runner.calls).toHaveLength(0);
  });

  it('warns when spawning a client held the event loop, and only then', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      let spawnMs = 5;
      sut = new TmuxGateway(new ScriptedRunner(() => ({ spawnMs })));
      await sut.listTree();
      expect(warn).not.toHaveBeenCalled();
      spawnMs = 400;
      await sut.listTree();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('held the event loop for 400ms'));
    } finally {
      warn.mockRestore();
    }
  });

  it('refuses keys outside the allowlist without calling tmux (T-33)', async () => {
    const runner = new ScriptedRunner(() => ({}));
    sut = new TmuxGateway(runner);
    await expect(sut.sendKey('%1', 'rm -rf /')).rejects.toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(runner.calls).toHaveLength(0);
  });

  it('control client shows as attached (issue 12 #11, A15): a closed client still listed is subtracted, others are not', async () => {
    const listed = (attached: string, list: string) => (nonce: string) => {
      const f = row(1, 0).slice(RS.length).split(FS);
      f[TREE_FIELDS.indexOf('session_attached')] = attached;
      f[TREE_FIELDS.indexOf('session_attached_list')] = list;
      return RS + nonce + f.join(FS) + '\n';
    };
    let out = (_nonce: string) => '';
    const runner = new ScriptedRunner((args) =>
      args[0] === 'list-panes' ? { stdout: out(nonceOf(args)) } : {},
    );
    const fake = new FakeControlClient();
    fake.onLine = () => setImmediate(() => fake.reply());
    Object.assign(runner, { control: () => (setImmediate(() => fake.ack()), fake) });
    sut = new TmuxGateway(runner, parseEnv({ MAS_TMUX_SOCKET: '/tmp/mgw/s' }));
    await sut.pasteMany('b', [{ paneId: '%1', inMode: false }], '$1'); // attaches client-4242
    sut.control!.close(); // idle close: tmux detaches it a few ms later
    out = listed('2', 'client-4242,/dev/pts/3');
    expect((await sut.listTree()).sessions[0].attached).toBe(1); // the user's terminal only
    out = listed('1', 'client-4242');
    expect((await sut.listTree()).sessions[0].attached).toBe(0);
  });

  describe('with a control client whose line is never answered (it exits)', () => {
    /** Acknowledges the attach and the setup line, then exits on the first real line. */
    function vanishing(runner: ScriptedRunner): FakeControlClient {
      const fake = new FakeControlClient();
      fake.onLine = (line) => {
        if (line.startsWith('refresh-client') || line.includes("'warm'"))
          setImmediate(() => fake.reply());
        else setImmediate(() => fake.exit());
      };
      Object.assign(runner, { control: () => (setImmediate(() => fake.ack()), fake) });
      return fake;
    }
    const cfg = parseEnv({ MAS_TMUX_SOCKET: '/tmp/mgw/s' });

    it('asks a read again on the fork path', async () => {
      const runner = new ScriptedRunner((args) => ({ stdout: row(1, 0, nonceOf(args)) + '\n' }));
      const fake = vanishing(runner);
      sut = new TmuxGateway(runner, cfg);
      await sut.pasteMany('warm', [{ paneId: '%1', inMode: false }], '$1'); // a write starts the client
      const tree = await sut.listSession('mas-00000001', true);
      expect(fake.lines.some((l) => l.startsWith("'list-panes'"))).toBe(true);
      expect(tree.sessions).toHaveLength(1);
      expect(runner.calls).toHaveLength(1);
    });

    it('never repeats a write: the paste is a timeout with outcome unknown (T-51)', async () => {
      const runner = new ScriptedRunner(() => ({}));
      vanishing(runner);
      sut = new TmuxGateway(runner, cfg);
      await expect(
        sut.pasteMany('b', [{ paneId: '%1', inMode: false }], '$1'),
      ).rejects.toMatchObject({ code: 'TMUX_TIMEOUT', details: { outcome: 'unknown' } });
      expect(runner.calls).toHaveLength(0);
    });
  });
});
