import type { ControlProcess } from '../../src/tmux/tmux-runner';

/**
 * A scripted control client: only for what a real tmux cannot do on demand (stay silent, vanish
 * mid-line, refuse to start). The real protocol is covered by test/control.e2e-spec.ts. `onLine`
 * lets a spec answer as lines arrive.
 */
export class FakeControlClient implements ControlProcess {
  pid = 4242;
  lines: string[] = [];
  ended = false;
  signals: string[] = [];
  private out?: (s: string) => void;
  private exits: (() => void)[] = [];
  private n = 100;
  onLine?: (line: string) => void;
  stdin = {
    write: (s: string) => {
      this.lines.push(s.trimEnd());
      this.onLine?.(s.trimEnd());
    },
    end: () => (this.ended = true),
  };
  stdout = { on: (_: 'data', fn: (s: string) => void) => (this.out = fn) };
  onExit(fn: () => void) {
    this.exits.push(fn);
  }
  signal(sig: NodeJS.Signals) {
    this.signals.push(sig);
  }
  emit(s: string) {
    this.out!(s);
  }
  ack() {
    this.emit('%begin 1 1 0\n%end 1 1 0\n');
  }
  reply(ok = true, body = '') {
    const n = this.n++;
    this.emit(`%begin 1 ${n} 1\n${body}${ok ? '%end' : '%error'} 1 ${n} 1\n`);
  }
  exit() {
    for (const fn of this.exits.splice(0)) fn();
  }
}
