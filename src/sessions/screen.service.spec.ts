import type { AgentView } from '../core/agent-status';
import type { KnownSession } from '../core/snapshot';
import type { PaneScreen } from '../tmux/pane-screen';
import { screenLines, statusNow } from './screen.service';

const screen = (history: string[], visible: string[], dead: Partial<PaneScreen> = {}) => ({
  width: 80,
  height: 24,
  cursor: { x: 0, y: 0 },
  history,
  visible,
  dead: false,
  deadStatus: null,
  deadSignal: null,
  ...dead,
});

describe('screenLines', () => {
  it('trims trailing blank lines, including ones holding only SGR escapes', () => {
    expect(screenLines(screen(['h'], ['a', '', 'b', '  ', '\x1b[39m', '']))).toEqual({
      lines: ['h', 'a', '', 'b'],
      history: 1,
    });
  });

  it('an empty screen under blank history lines: `history` counts what is returned', () => {
    expect(screenLines(screen(['x', '', ''], ['', '']))).toEqual({ lines: ['x'], history: 1 });
  });
});

describe('statusNow (§5.4 with the capture fresher than the snapshot)', () => {
  const pane = {
    id: '%3',
    index: 0,
    dead: false,
    deadStatus: null,
    deadSignal: null,
    inMode: false,
    currentCommand: 'claude',
    agentId: '10',
    launched: true,
    unsafe: false,
  };
  const k = {
    tmux: { windows: [{ id: '@1', index: 2, name: 'unit1', panes: [pane] }] },
  } as unknown as KnownSession;
  const running = {
    agentId: '10',
    status: 'running',
    reason: 'agent_process',
    paneId: '%3',
  } as AgentView;

  it('keeps the snapshot status while the pane lives', () => {
    expect(statusNow(k, running, screen([], []))).toBe('running');
  });

  it('a death the cached snapshot has not seen yet: exit 3 is error, exit 0 stopped', () => {
    expect(statusNow(k, running, screen([], [], { dead: true, deadStatus: 3 }))).toBe('error');
    expect(statusNow(k, running, screen([], [], { dead: true, deadStatus: 0 }))).toBe('stopped');
    expect(statusNow(k, running, screen([], [], { dead: true, deadSignal: 9 }))).toBe('error');
    expect(statusNow(k, running, screen([], [], { dead: true }))).toBe('stopped'); // T-77
  });
});
