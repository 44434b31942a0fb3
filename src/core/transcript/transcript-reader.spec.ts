import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { readTranscript, TranscriptRangeError } from './transcript-reader';

function dirWith(log: Buffer, old?: Buffer, base = 0): string {
  const d = mkdtempSync(path.join(tmpdir(), 'tr-'));
  writeFileSync(path.join(d, '10.log'), log);
  if (old) writeFileSync(path.join(d, '10.log.1'), old);
  writeFileSync(path.join(d, '10.json'), JSON.stringify({ base, gaps: [] }));
  return d;
}

describe('readTranscript', () => {
  const euro = Buffer.from('€'); // e2 82 ac

  it('never splits a UTF-8 character: from inside one moves on, next stops before one', () => {
    const d = dirWith(Buffer.concat([Buffer.from('a'), euro, Buffer.from('b'), euro]));
    const r = readTranscript(d, '10', { from: 2, limit: 4, format: 'raw' });
    expect(r).toMatchObject({ from: 4, next: 8, data: 'b€' });
    const s = readTranscript(d, '10', { from: 0, limit: 3, format: 'raw' });
    expect(s).toMatchObject({ from: 0, next: 1, data: 'a' });
    const t = readTranscript(d, '10', { from: 1, limit: 1, format: 'raw' });
    expect(t).toMatchObject({ next: 4, data: '€' }); // at least one character
  });

  it('A14d-5: a character cut off at the end waits while the writer may complete it, reads as U+FFFD once it cannot', () => {
    const d = dirWith(Buffer.concat([Buffer.from('hi'), euro.subarray(0, 2)]));
    const live = readTranscript(d, '10', { from: 2, limit: 100, format: 'raw' });
    expect(live).toMatchObject({ next: 2, end: 4, data: '' });
    for (const format of ['raw', 'text'] as const) {
      const over = readTranscript(d, '10', { from: 2, limit: 100, format, final: true });
      expect(over).toMatchObject({ next: 4, end: 4, data: '\ufffd' });
    }
  });

  it('text strips escapes, keeps a partial one for the next read, and turns CRLF into LF', () => {
    const d = dirWith(Buffer.from('\x1b[1mhi\x1b[0m\r\nyo\x1b]0;t\x07!'));
    expect(readTranscript(d, '10', { from: 0, limit: 100, format: 'text' }).data).toBe('hi\nyo!');
    const part = readTranscript(d, '10', { from: 0, limit: 9, format: 'text' });
    expect(part).toMatchObject({ data: 'hi', next: 6 });
  });

  it('spans the old generation, truncates before start and refuses from > end', () => {
    const d = dirWith(Buffer.from('world'), Buffer.from('hello '), 106);
    const r = readTranscript(d, '10', { from: 0, limit: 100, format: 'raw' });
    expect(r).toMatchObject({
      start: 100,
      end: 111,
      from: 100,
      truncated: true,
      data: 'hello world',
    });
    expect(readTranscript(d, '10', { limit: 3, format: 'raw' })).toMatchObject({
      from: 108,
      data: 'rld',
    });
    expect(readTranscript(d, '10', { from: 111, limit: 3, format: 'raw' })).toMatchObject({
      data: '',
      next: 111,
    });
    expect(() => readTranscript(d, '10', { from: 112, limit: 3, format: 'raw' })).toThrow(
      TranscriptRangeError,
    );
    expect(readTranscript(d, '10', { from: 100, limit: 100, format: 'base64' }).data).toBe(
      Buffer.from('hello world').toString('base64'),
    );
  });

  it('A14-3: text at an escape longer than the limit takes the sequence and one character, not the file', () => {
    const d = dirWith(Buffer.from('a\x1b[1mbold\x1b[0m and a long rest of the line'));
    const r = readTranscript(d, '10', { from: 1, limit: 1, format: 'text' });
    expect(r).toMatchObject({ from: 1, next: 6, data: 'b' });
    const two = readTranscript(d, '10', { from: 9, limit: 1, format: 'text' });
    expect(two).toMatchObject({ from: 9, next: 14, data: ' ' });
  });

  it('A14-4: text never starts inside an escape sequence (a from or a tail inside one moves past it)', () => {
    const d = dirWith(Buffer.from('hi \x1b]0;title\x07 osc\r\n'));
    const mid = readTranscript(d, '10', { from: 6, limit: 64, format: 'text' });
    expect(mid).toMatchObject({ from: 13, data: ' osc\n' });
    const tail = readTranscript(d, '10', { limit: 12, format: 'text' });
    expect(tail).toMatchObject({ from: 13, data: ' osc\n' });
    expect(readTranscript(d, '10', { from: 6, limit: 64, format: 'raw' }).from).toBe(6);
  });

  it('text leaves an escape sequence incomplete at the end of the file for the next read', () => {
    const d = dirWith(Buffer.from('ok\x1b[3'));
    expect(readTranscript(d, '10', { from: 0, limit: 64, format: 'text' })).toMatchObject({
      data: 'ok',
      next: 2,
    });
    expect(readTranscript(d, '10', { from: 2, limit: 64, format: 'text' })).toMatchObject({
      data: '',
      next: 2,
    });
  });

  it('A14b-3: a from among stray continuation bytes stays (each is a character); inside a real one it moves', () => {
    const d = dirWith(
      Buffer.concat([Buffer.from('A'), Buffer.alloc(6, 0x80), euro, Buffer.from('B')]),
    );
    expect(readTranscript(d, '10', { from: 3, limit: 100, format: 'raw' })).toMatchObject({
      from: 3,
      data: '\ufffd\ufffd\ufffd\ufffd€B',
    });
    expect(readTranscript(d, '10', { from: 8, limit: 100, format: 'raw' })).toMatchObject({
      from: 10,
      data: 'B',
    });
  });
});
