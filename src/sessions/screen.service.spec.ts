import { screenLines } from './screen.service';

const screen = (history: string[], visible: string[]) => ({
  width: 80,
  height: 24,
  cursor: { x: 0, y: 0 },
  history,
  visible,
  dead: false,
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
