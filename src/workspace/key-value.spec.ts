import fc from 'fast-check';
import { parseKeyValue, replaceStatus, serializeSession } from './key-value';
import { parseIndex } from './sessions-index';

describe('parseKeyValue (contract §6.2)', () => {
  it('parses CRLF, quotes, comments, duplicates and ignores export/garbage', () => {
    const r = parseKeyValue(
      '# c\r\nA=1\r\nB="two words"\nC=\'x\'\nexport D=4\nlower=5\nA=last\nE="unbalanced\n',
    );
    expect(r.values).toEqual({ A: 'last', B: 'two words', C: 'x', E: '"unbalanced' });
    expect(r.warnings.length).toBeGreaterThanOrEqual(3);
  });
  it('never expands or executes: $(...) stays text', () => {
    expect(parseKeyValue('X=$(touch /tmp/p)`id`').values.X).toBe('$(touch /tmp/p)`id`');
  });
  it('rejects values with control characters', () => {
    expect(parseKeyValue('X=a\u001bb').values.X).toBeUndefined();
  });
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 2000 }),
        (s) => typeof parseKeyValue(s).values === 'object',
      ),
    );
  });
  it('serialises seven safe lines and rewrites only STATUS', () => {
    const text = serializeSession({
      SESSION_ID: 'a',
      TMUX_SESSION: 'mas-a',
      STATUS: 'active',
      CREATED_AT: '2026-11-25T19:59:35Z',
      UNIT_DIR: '/w/u',
      WORKFLOWS_DIR: '/w/f',
      SESSION_DIR: '/w',
    });
    expect(text.split('\n')).toHaveLength(8);
    expect(replaceStatus(`${text}# keep\n`, 'stopped')).toBe(
      `${text.replace('STATUS=active', 'STATUS=stopped')}# keep\n`,
    );
    expect(replaceStatus('A=1', 'stopped')).toBe('A=1\nSTATUS=stopped\n');
    expect(() =>
      serializeSession({
        SESSION_ID: 'a b',
        TMUX_SESSION: 'x',
        STATUS: 'x',
        CREATED_AT: 'x',
        UNIT_DIR: 'x',
        WORKFLOWS_DIR: 'x',
        SESSION_DIR: 'x',
      }),
    ).toThrow();
  });
});

describe('parseIndex (contract §6.5)', () => {
  it('empty is an empty registry; garbage is empty and flagged', () => {
    expect(parseIndex('')).toEqual({ index: { version: '1.0', sessions: [] }, unreadable: false });
    expect(parseIndex('{not json').unreadable).toBe(true);
    expect(parseIndex('{"sessions":[]}').unreadable).toBe(true);
  });
  it('keeps entries with a sessionId and preserves unknown keys', () => {
    const r = parseIndex(
      '{"version":"1.0","extra":1,"sessions":[{"sessionId":"a","x":1},{"nope":1}]}',
    );
    expect(r.index.sessions).toEqual([{ sessionId: 'a', x: 1 }]);
    expect(r.index.extra).toBe(1);
  });
});
