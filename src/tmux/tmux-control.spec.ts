import { TmuxControlChannel } from './tmux-control';
import { FakeControlClient as FakeClient } from '../../test/support/fake-control-client';

const OPTS = { timeoutMs: 200, startTimeoutMs: 100, idleMs: 10_000, cooldownMs: 60_000 };
const tick = () => new Promise((r) => setImmediate(r));

async function started(): Promise<{ ch: TmuxControlChannel; fake: FakeClient }> {
  const fake = new FakeClient();
  const ch = new TmuxControlChannel(() => fake, OPTS);
  const first = ch.run([['send-keys', '-t', '%1', 'Enter']], '$1');
  await tick();
  fake.ack();
  await tick();
  fake.reply(); // refresh-client -f
  await tick();
  fake.reply();
  expect((await first)?.exitCode).toBe(0);
  return { ch, fake };
}

describe(TmuxControlChannel.name, () => {
  it('waits for the attach acknowledgement, then matches replies to lines in order', async () => {
    const { ch, fake } = await started();
    expect(fake.lines[0]).toBe('refresh-client -f no-output,ignore-size');
    const a = ch.run([
      ['copy-mode', '-q', '-t', '%2'],
      ['paste-buffer', '-b', 'b', '-t', '%2'],
    ]);
    const b = ch.run([['send-keys', '-t', '%9', 'Enter']]);
    await tick();
    fake.reply();
    fake.reply();
    fake.reply(false, "can't find pane: %9\n");
    expect((await a)?.exitCode).toBe(0);
    expect(await b).toMatchObject({ exitCode: 1, stderr: "can't find pane: %9\n" });
    expect(ch.clientName).toBe('client-4242');
    ch.close();
  });

  it('a line never answered is a timeout for every line in flight; then calls fork for the cooldown', async () => {
    const { ch, fake } = await started();
    const [a, b] = [
      ch.run([['send-keys', '-t', '%1', 'Enter']]),
      ch.run([['send-keys', '-t', '%2', 'Enter']]),
    ];
    expect(await a).toMatchObject({ timedOut: true, exitCode: null });
    expect(await b).toMatchObject({ timedOut: true });
    expect(fake.ended).toBe(true); // orderly close first (T-75)
    expect(await ch.run([['send-keys', '-t', '%1', 'Enter']], '$1')).toBeNull();
  });

  it('a client that exits with lines in flight answers them as lost, and the next write starts a new one', async () => {
    const { ch, fake } = await started();
    const a = ch.run([['paste-buffer', '-b', 'b', '-t', '%1']]);
    await tick();
    fake.exit();
    expect(await a).toMatchObject({ lost: true, exitCode: null });
    expect(ch.up).toBe(false);
    expect(await ch.run([['send-keys', '-t', '%1', 'Enter']])).toBeNull(); // no attach target: fork
  });

  it('a client that cannot start writes nothing: the call forks', async () => {
    const fake = new FakeClient();
    const ch = new TmuxControlChannel(() => fake, OPTS);
    const r = ch.run([['send-keys', '-t', '%1', 'Enter']], '$1');
    await tick();
    fake.exit();
    expect(await r).toBeNull();
    expect(fake.lines).toEqual([]);
  });

  it('an attach refused with %error and %exit at once (the session is gone) forks, writes nothing, and costs no cooldown', async () => {
    const spawned: FakeClient[] = [];
    const ch = new TmuxControlChannel(
      () => (spawned.push(new FakeClient()), spawned[spawned.length - 1]),
      OPTS,
    );
    const r = ch.run([['list-panes', '-s', '-t', '=mas-0000dead']], '=mas-0000dead');
    await tick();
    spawned[0].emit("%begin 1 1 0\ncan't find session: mas-0000dead\n%error 1 1 0\n%exit\n");
    spawned[0].exit();
    expect(await r).toBeNull();
    expect(spawned[0].lines).toEqual([]);
    void ch.run([['send-keys', '-t', '%1', 'Enter']], '$1');
    await tick();
    expect(spawned).toHaveLength(2); // a refused attach is no stalled server: the next write tries again
    spawned[1].exit();
  });

  it("ignores hooks' blocks (flags 0) between replies, and output outside blocks", async () => {
    const { ch, fake } = await started();
    const a = ch.run([['send-keys', '-t', '%1', 'Enter']]);
    await tick();
    fake.emit('%begin 1 300 0\nhooked\n%end 1 300 0\nattachedhook\n');
    expect(await Promise.race([a, tick().then(() => 'pending')])).toBe('pending');
    fake.reply();
    expect((await a)?.exitCode).toBe(0);
    ch.close();
  });

  it("a replaced client that prints a late reply cannot answer the new client's line", async () => {
    const spawned: FakeClient[] = [];
    const ch = new TmuxControlChannel(
      () => (spawned.push(new FakeClient()), spawned[spawned.length - 1]),
      OPTS,
    );
    const boot = async (first: Promise<unknown>) => {
      const f = spawned[spawned.length - 1];
      await tick();
      f.ack();
      await tick();
      f.reply();
      await tick();
      return first;
    };
    const lost = ch.run([['paste-buffer', '-b', 'b', '-t', '%1']], '$1');
    await boot(Promise.resolve());
    spawned[0].exit(); // the first client goes with the paste in flight
    expect(await lost).toMatchObject({ lost: true });
    const next = ch.run([['send-keys', '-t', '%2', 'Enter']], '$1');
    await tick();
    spawned[1].ack();
    await tick();
    spawned[0].reply(false, "can't find pane: %1\n"); // the old client's late answer
    spawned[1].reply(); // refresh-client
    await tick();
    spawned[1].reply();
    expect((await next)?.exitCode).toBe(0);
    ch.close();
  });

  it('retire lets lines in flight finish, then closes; writes meanwhile fork', async () => {
    const { ch, fake } = await started();
    const a = ch.run([['send-keys', '-t', '%1', 'Enter']]);
    await tick();
    const retired = ch.retire();
    expect(await ch.run([['send-keys', '-t', '%2', 'Enter']], '$1')).toBeNull();
    fake.reply();
    expect((await a)?.exitCode).toBe(0);
    await retired;
    expect(fake.ended).toBe(true);
    expect(ch.up).toBe(false);
  });

  it('control client shows as attached (issue 12 #11, A15): a closed client keeps its name until it has exited', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick'] });
    try {
      const { ch, fake } = await started();
      expect(ch.ownClientNames).toEqual(['client-4242']);
      ch.close();
      expect(ch.clientName).toBeUndefined();
      expect(ch.ownClientNames).toEqual(['client-4242']); // tmux may still list it as attached
      fake.exit();
      expect(ch.ownClientNames).toEqual(['client-4242']); // a killed client: until tmux noticed
      jest.advanceTimersByTime(1000);
      expect(ch.ownClientNames).toEqual([]);
    } finally {
      jest.useRealTimers();
    }
  });
});
