import fc from 'fast-check';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { toIssues } from '../common/validation/to-issues';
import { sessionIdIssues } from '../core/session-ref.pipe';
import { toSessionRef } from '../core/session-ref';
import { expandTarget, parseTarget } from './message-target';
import { IsAgentText } from '../domain/message-text';

class Text {
  @IsAgentText() message!: string;
}
const textIssue = (message: unknown) =>
  toIssues(validateSync(plainToInstance(Text, { message })), 'body')[0];

/** The SessionRef, or the issue that rejected the value: what SessionRefPipe answers. */
function parseRef(s: string) {
  const issues = sessionIdIssues(s);
  return issues.length ? issues[0] : toSessionRef(s);
}

const roster13 = ['00', '10', '11', '12', '13', '20', '21', '22', '23', '30', '31', '32', '33'];

describe('target grammar (contract §4.10)', () => {
  it.each([
    ['all', roster13],
    ['managers', ['00', '10', '20', '30']],
    ['workers', roster13.filter((id) => id !== '00' && !id.endsWith('0'))],
    ['agent-21, 10 ,10', ['10', '21']],
    ['window0', ['00']],
    ['meta', ['00']],
    ['design', ['10', '11', '12', '13']],
    ['unit2', ['20', '21', '22', '23']],
    ['3', ['30', '31', '32', '33']],
    ['unit4', []],
  ])('%s expands in roster order, narrowed to the roster', (t, ids) => {
    expect(expandTarget(parseTarget(t)!, roster13).ids).toEqual(ids);
  });
  it('keeps explicit ids outside the roster as missing', () => {
    expect(expandTarget(parseTarget('45,10')!, roster13)).toEqual({
      ids: ['10', '45'],
      missing: ['45'],
    });
  });
  it.each([
    '',
    'bogus',
    '01',
    '16',
    '50',
    'agent-',
    'Agent-10',
    'unit0',
    'window5',
    'all;',
    'a,'.repeat(30),
  ])('rejects %j', (t) => expect(parseTarget(t)).toBeUndefined());
  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const r = parseTarget(s);
        return r === undefined || expandTarget(r, roster13).ids.every((id) => /^\d\d$/.test(id));
      }),
    );
  });
});

describe('message text (contract §4.2)', () => {
  it.each([
    ['ok\ttext\nmore', undefined],
    ['a\r\nb', undefined],
    ['nul\u0000', 'control_characters'],
    ['del\u007f', 'control_characters'],
    ['c1\u0085', 'control_characters'],
    ['bidi\u2066', 'control_characters'],
    ['bad\ud800x', 'invalid_unicode'],
    ['repl\ufffd', 'invalid_unicode'],
    [' \n\t', 'blank'],
    [42, 'type'],
  ])('%j → %s', (v, rule) => expect(textIssue(v)?.rule).toBe(rule));
  it('never throws and never echoes text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), (s) => {
        const i = textIssue(s);
        return i === undefined || i.received === undefined;
      }),
    );
  });
});

describe('session references (contract §4.1)', () => {
  it('accepts exactly the three lower-case forms', () => {
    expect(parseRef('ebef3e29-0b76-4071-ad8d-d5d075397ec3')).toEqual({
      kind: 'full',
      id: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3',
      raw: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3',
    });
    expect(parseRef('ebef3e29')).toEqual({
      kind: 'short',
      short: 'ebef3e29',
      raw: 'ebef3e29',
    });
    expect(parseRef('mas-ebef3e29')).toEqual({
      kind: 'short',
      short: 'ebef3e29',
      raw: 'mas-ebef3e29',
    });
  });
  it('rejects everything else without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (s) => {
        const r = parseRef(s);
        return 'location' in r
          ? r.rule === (s.length > 36 ? 'length' : 'pattern') && r.location === 'path'
          : /^(mas-)?[0-9a-f]{8}$|^[0-9a-f-]{36}$/.test(s);
      }),
    );
  });
});
