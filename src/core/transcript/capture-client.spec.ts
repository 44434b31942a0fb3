import { CaptureClient } from './capture-client';

/** A control process fed by hand: what tmux would print on the client's stdout. */
function fakeProc() {
  let data: (b: Buffer) => void = () => undefined;
  const exits: Array<() => void> = [];
  const written: string[] = [];
  return {
    written,
    print: (s: string) => data(Buffer.from(s)),
    exit: () => exits.forEach((f) => f()),
    proc: {
      pid: 4242,
      stdin: { write: (s: string) => written.push(s), end: () => undefined },
      stdout: { on: (_: 'data', fn: (b: Buffer) => void) => (data = fn) },
      onExit: (fn: () => void) => exits.push(fn),
      signal: () => undefined,
    },
  };
}

describe('CaptureClient readiness', () => {
  it('is ready when tmux says its session is set, not before; a setup error before the attach is no failure', async () => {
    const f = fakeProc();
    const c = new CaptureClient(
      f.proc,
      () => undefined,
      () => undefined,
      5000,
    );
    let ready: boolean | undefined;
    void c.ready.then((r) => (ready = r));
    // what tmux printed when a setup line reached it before the attach (no current client)
    f.print('%begin 1 1 1\nno current client\n%error 1 1 1\n%begin 1 2 0\n%end 1 2 0\n');
    await new Promise((r) => setImmediate(r));
    expect(ready).toBeUndefined();
    f.print('%session-changed $3 mas-0000aaaa\n');
    expect(await c.ready).toBe(true);
    expect(f.written).toContain('refresh-client -f ignore-size\n');
  });

  it('is not ready when the client exits before its session is set (session gone)', async () => {
    const f = fakeProc();
    const c = new CaptureClient(
      f.proc,
      () => undefined,
      () => undefined,
      5000,
    );
    f.print("%begin 1 1 0\ncan't find session: $3\n%error 1 1 0\n%exit\n");
    f.exit();
    expect(await c.ready).toBe(false);
  });
});
