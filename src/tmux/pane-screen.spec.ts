import { FS, RS } from './tmux-format';
import { chain, paneScreenCommands } from './tmux-args';
import { parsePaneScreen, screenTemplate } from './pane-screen';

describe('paneScreenCommands (argv of a screen read)', () => {
  const marker = screenTemplate('abc');

  it('without history: display-message then the visible capture, both on the pane id only', () => {
    expect(paneScreenCommands('%7', 0, false, marker)).toEqual([
      ['display-message', '-p', '-t', '%7', marker],
      ['capture-pane', '-p', '-J', '-S', '0', '-E', '-', '-t', '%7'],
    ]);
  });

  it('with history and ansi: the bounded history capture first, -e on both captures', () => {
    const cmds = paneScreenCommands('%12', 2000, true, marker);
    expect(cmds).toEqual([
      ['capture-pane', '-p', '-J', '-e', '-S', '-2000', '-E', '-1', '-t', '%12'],
      ['display-message', '-p', '-t', '%12', marker],
      ['capture-pane', '-p', '-J', '-e', '-S', '0', '-E', '-', '-t', '%12'],
    ]);
    // one invocation; the marker is a constant template (formats only, no request text)
    expect(chain(cmds).filter((a) => a === ';')).toHaveLength(2);
    expect(marker).toBe(
      `${RS}abc#{pane_width}${FS}#{pane_height}${FS}#{cursor_x}${FS}#{cursor_y}${FS}#{history_size}${FS}#{pane_dead}${FS}#{pane_dead_status}${FS}#{pane_dead_signal}`,
    );
  });
});

describe('parsePaneScreen', () => {
  const meta = (f: (number | string)[]) => `${RS}n0nce${f.join(FS)}\n`;

  it('splits history and visible rows at the marker line', () => {
    const out = `h1\nh2\n${meta([80, 24, 3, 1, 40, 0, '', ''])}v1\nv2\n\n\n`;
    expect(parsePaneScreen(out, 'n0nce')).toEqual({
      width: 80,
      height: 24,
      cursor: { x: 3, y: 1 },
      history: ['h1', 'h2'],
      visible: ['v1', 'v2', '', ''],
      dead: false,
      deadStatus: null,
      deadSignal: null,
    });
  });

  it('a wrapped last history line has no LF before the marker: still its own line', () => {
    const out = `h1\nwrapped${meta([10, 5, 0, 0, 9, 1, 3, ''])}rest\n`;
    const s = parsePaneScreen(out, 'n0nce');
    expect(s.history).toEqual(['h1', 'wrapped']);
    expect(s.visible).toEqual(['rest']);
    expect(s).toMatchObject({ dead: true, deadStatus: 3, deadSignal: null });
  });

  it('drops the history capture when the pane has none (tmux clamps it to the top row)', () => {
    const out = `top\n${meta([10, 5, 0, 0, 0, 0, '', ''])}top\n`;
    expect(parsePaneScreen(out, 'n0nce').history).toEqual([]);
  });

  it('ignores a forged marker without this call nonce; refuses garbage', () => {
    const forged = `${RS}other1${FS}2\n`;
    expect(
      parsePaneScreen(`${forged}${meta([1, 1, 0, 0, 0, 0, '', ''])}x\n`, 'n0nce').visible,
    ).toEqual(['x']);
    expect(() => parsePaneScreen('no marker\n', 'n0nce')).toThrow('unparsable');
    expect(() => parsePaneScreen(`${RS}n0nce1${FS}x\n`, 'n0nce')).toThrow('unparsable');
  });
});
