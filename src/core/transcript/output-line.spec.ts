import { OutputLineReader, unescapeOutput } from './output-line';

describe('output-line', () => {
  it('unescapes octal escapes and keeps raw bytes', () => {
    const raw = Buffer.concat([Buffer.from('a\\015\\012\\134b'), Buffer.from([0xc3])]);
    expect(unescapeOutput(raw)).toEqual(
      Buffer.concat([Buffer.from('a\r\n\\b'), Buffer.from([0xc3])]),
    );
  });

  it('splits lines across chunks and reports %output with its pane id', () => {
    const out: [string, string][] = [];
    const other: string[] = [];
    const r = new OutputLineReader(
      (p, b) => out.push([p, b.toString('hex')]),
      (l) => other.push(l),
    );
    r.push(Buffer.from('%begin 1 2 0\n%end 1 2 0\n%output %12 h'));
    r.push(
      Buffer.concat([Buffer.from('i\\015\\012'), Buffer.from([0xe2, 0x82]), Buffer.from('\n')]),
    );
    expect(other).toEqual(['%begin 1 2 0', '%end 1 2 0']);
    expect(out).toEqual([
      ['%12', Buffer.from([0x68, 0x69, 0x0d, 0x0a, 0xe2, 0x82]).toString('hex')],
    ]);
  });
});
