import { FakeControlClient } from '../../test/support/fake-control-client';
import { ScriptedRunner } from '../../test/support/scripted-runner';
import { parseEnv } from '../config/parse-env';
import type { TmuxCallEvent } from './tmux-observer';
import { TmuxGateway } from './tmux.gateway';

/** The observer seam metrics use (§10.5): one event per tmux call, by path and outcome. */
describe('tmux call observer', () => {
  let sut: TmuxGateway;
  afterEach(() => sut.onModuleDestroy());
  const watch = (g: TmuxGateway): TmuxCallEvent[] => {
    const seen: TmuxCallEvent[] = [];
    g.observeCalls({ callEnded: (e) => seen.push(e) });
    return seen;
  };
  const strip = (e: TmuxCallEvent[]) => e.map(({ durationMs: _d, ...rest }) => rest);

  it('sees forked calls with their subcommand and outcome: ok, error, timeout', async () => {
    const runner = new ScriptedRunner((args) =>
      args[0] === 'list-sessions'
        ? { exitCode: 1, stderr: 'protocol version mismatch\n' }
        : args[0] === 'kill-session'
          ? { exitCode: null, timedOut: true }
          : {},
    );
    sut = new TmuxGateway(runner);
    const seen = watch(sut);
    await sut.version();
    await sut.listSessionNames().catch(() => undefined);
    await expect(sut.killSession('$1')).rejects.toMatchObject({ code: 'TMUX_TIMEOUT' });
    expect(strip(seen)).toEqual([
      { command: 'version', path: 'fork', outcome: 'ok' },
      { command: 'list-sessions', path: 'fork', outcome: 'error' },
      { command: 'kill-session', path: 'fork', outcome: 'timeout' },
    ]);
    expect(seen.every((e) => e.durationMs >= 0)).toBe(true);
  });

  it('sees lines on the control client as path control (an unanswered write: timeout), and stops when unregistered', async () => {
    const runner = new ScriptedRunner(() => ({}));
    const fake = new FakeControlClient();
    fake.onLine = () => setImmediate(() => fake.reply());
    Object.assign(runner, { control: () => (setImmediate(() => fake.ack()), fake) });
    sut = new TmuxGateway(runner, parseEnv({ MAS_TMUX_SOCKET: '/tmp/mgw/s' }));
    const seen = watch(sut);
    await sut.pasteMany('b', [{ paneId: '%1', inMode: false }], '$1');
    expect(strip(seen)).toEqual([{ command: 'paste-buffer', path: 'control', outcome: 'ok' }]);
    fake.onLine = () => setImmediate(() => fake.exit()); // the client leaves without answering
    await expect(sut.deleteBuffer('b')).rejects.toMatchObject({ code: 'TMUX_TIMEOUT' });
    expect(strip(seen).at(-1)).toEqual({
      command: 'delete-buffer',
      path: 'control',
      outcome: 'timeout',
    });
    sut.observeCalls(undefined);
    await sut.version();
    expect(seen).toHaveLength(2);
  });
});
