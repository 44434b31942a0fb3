import { BlockReader, controlLine, quoteArg, type Block } from './control-line';

describe('controlLine', () => {
  it("single-quotes every argument and puts a quote in as '\\''", () => {
    expect(
      controlLine([
        ['send-keys', '-t', '%1', 'Enter'],
        ['set-option', '@x', "it's; #{a} $H ~"],
      ]),
    ).toBe(`'send-keys' '-t' '%1' 'Enter' ; 'set-option' '@x' 'it'\\''s; #{a} $H ~'`);
  });

  it('refuses a control character anywhere, so the caller forks (T-74)', () => {
    for (const bad of ['a\nb', 'a\rb', 'nul\0', 'esc\x1b', 'del\x7f'])
      expect(quoteArg(bad)).toBeNull();
    expect(controlLine([['x'], ['y', 'a\nb']])).toBeNull();
    expect(quoteArg('tab\tis fine')).toBe(`'tab\tis fine'`);
  });
});

describe(BlockReader.name, () => {
  const read = (chunks: string[]) => {
    const blocks: Block[] = [];
    const notes: string[] = [];
    const r = new BlockReader(
      (b) => blocks.push(b),
      (n) => notes.push(n),
    );
    for (const c of chunks) r.push(c);
    return { blocks, notes };
  };

  it('frames replies split anywhere across reads, and keeps notifications apart', () => {
    const text =
      "%begin 1 5 0\n%end 1 5 0\n%sessions-changed\n%begin 2 6 1\nout one\nout two\n%end 2 6 1\n%begin 2 7 1\ncan't find pane: %9\n%error 2 7 1\n";
    for (const size of [1, 3, 7, text.length]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      const { blocks, notes } = read(chunks);
      expect(blocks).toEqual([
        { ok: true, lines: [], fromClient: false },
        { ok: true, lines: ['out one', 'out two'], fromClient: true },
        { ok: false, lines: ["can't find pane: %9"], fromClient: true },
      ]);
      expect(notes).toEqual(['%sessions-changed']);
    }
  });

  it('ends a block only on its own %end line: output that looks like one is output (T-11)', () => {
    const { blocks } = read(['%begin 9 40 1\n%end 9 41 1\n%end\n%error 9 40 0\n%end 9 40 1\n']);
    expect(blocks).toEqual([
      { ok: true, lines: ['%end 9 41 1', '%end', '%error 9 40 0'], fromClient: true },
    ]);
  });
});
