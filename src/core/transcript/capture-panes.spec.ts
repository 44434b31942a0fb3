import type { TmuxTree } from '../../tmux/tmux.types';
import { PaneAgents } from './capture-panes';

const tree = (panes: [string, string][]): TmuxTree =>
  ({
    sessions: [
      {
        name: 'mas-1',
        tagSessionId: 'x',
        windows: [{ panes: panes.map(([id, agentId]) => ({ id, agentId })) }],
      },
    ],
  }) as unknown as TmuxTree;

describe('PaneAgents (held output of panes not yet listed)', () => {
  it('releases held output in order once a listing names the pane an agent’s; a non-agent pane’s is dropped', () => {
    const p = new PaneAgents();
    p.hold('%1', Buffer.from('a'));
    p.hold('%1', Buffer.from('b'));
    p.hold('%2', Buffer.from('shell'));
    const out = p.learn(
      tree([
        ['%1', '10'],
        ['%2', ''],
      ]),
      'mas-1',
      undefined,
      true,
    );
    expect(out.map(([a, c]) => [a, Buffer.concat(c).toString()])).toEqual([['10', 'ab']]);
    expect(p.learn(tree([]), 'mas-1')).toEqual([]);
    expect(p.agentIds()).toEqual(['10']);
  });

  it('holds at most 1 MiB per pane, one contiguous run: nothing after the first refused chunk', () => {
    const p = new PaneAgents();
    const mb = 1024 * 1024;
    p.hold('%1', Buffer.alloc(mb - 10, 'x'));
    p.hold('%1', Buffer.alloc(20, 'y')); // does not fit: refused
    p.hold('%1', Buffer.alloc(5, 'z')); // would fit, but would leave a hole: refused too
    const [[, chunks]] = p.learn(tree([['%1', '10']]), 'mas-1');
    expect(Buffer.concat(chunks).length).toBe(mb - 10);
  });

  it('a whole listing asked for after a pane printed that does not show it drops what it held (the pane is gone)', () => {
    const p = new PaneAgents();
    p.hold('%7', Buffer.from('gone soon'));
    const asked = Date.now() + 1;
    expect(p.learn(tree([['%1', '10']]), 'mas-1', asked)).toEqual([]);
    // were the pane listed later after all, nothing of it is left to release
    expect(p.learn(tree([['%7', '11']]), 'mas-1')).toEqual([]);
  });

  it('a listing asked for before the pane printed keeps what it held', () => {
    const p = new PaneAgents();
    const asked = Date.now() - 1;
    p.hold('%8', Buffer.from('new'));
    expect(p.learn(tree([['%1', '10']]), 'mas-1', asked)).toEqual([]);
    expect(p.learn(tree([['%8', '11']]), 'mas-1')).toEqual([['11', [Buffer.from('new')]]]);
  });

  it('A14-2: before the creator settles, an untagged pane may be an agent not tagged yet: its output waits for a settled listing', () => {
    const p = new PaneAgents();
    expect(p.hold('%3', Buffer.from('hello 10'))).toBe(true);
    const asked = Date.now() + 1;
    // listed between its split-window and its set-option: untagged, but not dropped
    expect(p.learn(tree([['%3', '']]), 'mas-1', asked)).toEqual([]);
    expect(p.hold('%3', Buffer.from('!'))).toBe(false); // listed already: no listing per chunk
    expect(p.learn(tree([['%3', '10']]), 'mas-1', undefined, true)).toEqual([
      ['10', [Buffer.from('hello 10'), Buffer.from('!')]],
    ]);
  });

  it('A14-2: once settled, an untagged pane is no agent’s and its held output is dropped', () => {
    const p = new PaneAgents();
    p.hold('%0', Buffer.from('$ '));
    expect(p.learn(tree([['%0', '']]), 'mas-1')).toEqual([]);
    expect(
      p.learn(
        tree([
          ['%0', ''],
          ['%3', '10'],
        ]),
        'mas-1',
        undefined,
        true,
      ),
    ).toEqual([]);
    expect(p.agentOf('%0')).toBe('');
  });

  it('A14-2: output that arrived after a listing was asked, of a pane it did not show, asks for another', () => {
    const p = new PaneAgents();
    const asked = Date.now() - 1;
    p.hold('%9', Buffer.from('late'));
    p.learn(tree([['%1', '10']]), 'mas-1', asked);
    expect(p.waitsSince(asked)).toBe(true);
    p.learn(tree([['%9', '11']]), 'mas-1', Date.now() + 1);
    expect(p.waitsSince(asked)).toBe(false);
  });
});
