import type { TmuxTree } from '../../tmux/tmux.types';
import { PaneAgents } from './capture-panes';

const tree = (panes: [string, string][]): TmuxTree =>
  ({
    sessions: [
      { name: 'mas-1', windows: [{ panes: panes.map(([id, agentId]) => ({ id, agentId })) }] },
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
});
