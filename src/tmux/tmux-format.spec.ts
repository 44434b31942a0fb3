import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  FS,
  parseTree as parseWithNonce,
  parseTreeYielding as parseYieldingWithNonce,
  RS,
  TREE_FIELDS,
  treeTemplate,
} from './tmux-format';

// the recorded fixture predates the per-call nonce: it reads with an empty one
const parseTree = (s: string) => parseWithNonce(s, '');
const parseTreeYielding = (s: string) => parseYieldingWithNonce(s, '');
const TREE_TEMPLATE = treeTemplate('');

const fixture = readFileSync(
  path.join(__dirname, '__fixtures__', 'list-panes.tmux-3.3a.txt'),
  'utf8',
);

describe('parseTree', () => {
  it('gives the same tree when driven in slices with event-loop turns (the background snapshot)', async () => {
    const big = fixture.repeat(400); // well over one 500-record slice
    let turns = 0;
    const counter = setInterval(() => turns++, 0);
    const sliced = await parseTreeYielding(big);
    clearInterval(counter);
    expect(sliced).toEqual(parseTree(big));
    expect(sliced.tree.sessions[0].windows[0].panes.length).toBeGreaterThanOrEqual(400);
    expect(turns).toBeGreaterThan(0); // timers ran between slices: the loop was not blocked throughout
  });

  it('builds sessions, windows and panes from recorded tmux 3.3a output', () => {
    const { tree, dropped } = parseTree(fixture);
    expect(dropped).toBe(0);
    expect(tree.sessions.map((s) => s.name)).toEqual([
      'mas-abcdef01',
      'name with spaces "q" \'s\' #x émoji😀',
      'tab\\there',
    ]);
    const mas = tree.sessions[0];
    expect(mas).toMatchObject({
      id: '$0',
      tagSessionId: 'abcdef01-0b76-4071-ad8d-d5d075397ec3',
      tagWorkspace: '/tmp/ws',
      attached: 0,
    });
    expect(mas.windows.map((w) => w.name)).toEqual([
      'meta-manager',
      'unit1',
      'win\twith\ntab and lf',
    ]);
    expect(mas.windows[0].panes[0]).toMatchObject({
      agentId: '00',
      launched: true,
      dead: false,
      currentCommand: 'sleep',
    });
    expect(mas.windows[1].panes[0]).toMatchObject({ dead: true, deadStatus: 3 });
    expect(mas.windows[1].panes).toHaveLength(2);
    expect(mas.windows[2].panes[0].id).toMatch(/^%\d+$/);
  });

  it('the template carries every field once, records start with RS', () => {
    expect(TREE_TEMPLATE.startsWith(RS)).toBe(true);
    expect(TREE_TEMPLATE.split(FS)).toHaveLength(TREE_FIELDS.length);
  });

  it.each([
    ['empty output', ''],
    ['a truncated record', `${RS}$1${FS}mas-abcdef01${FS}12\n`],
  ])('drops malformed input safely: %s', (_, out) => {
    const { tree } = parseTree(out);
    expect(tree.sessions).toEqual([]);
  });

  it('counts garbage lines as dropped, so the gateway can refuse them', () => {
    expect(parseTree('hello world\nnot a record\n')).toEqual({
      tree: { sessions: [] },
      dropped: 2,
    });
  });

  it('counts a record with the wrong field count as dropped', () => {
    const good = fixture.split('\n')[0];
    expect(parseTree(`${good}\n${good}${FS}extra\n`).dropped).toBe(1);
  });
});
