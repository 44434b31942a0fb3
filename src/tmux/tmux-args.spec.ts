import { argvBytes, chain, createWindowCommands, escapeArg, MAX_COMMAND_BYTES } from './tmux-args';
import { packCommands } from './tmux-args';

describe('tmux-args', () => {
  it.each([
    ['hello;', 'hello\\;'],
    ['abc\\;', 'abc\\\\;'],
    [';', '\\;'],
    ['a;b', 'a;b'],
    ['plain', 'plain'],
  ])('escapes a trailing ; (T-31): %j → %j', (i, o) => expect(escapeArg(i)).toBe(o));

  it('chains commands with bare ; separators and escapes every element', () => {
    expect(
      chain([
        ['set-option', 'x;'],
        ['kill-session', '-t', '$1'],
      ]),
    ).toEqual(['set-option', 'x\\;', ';', 'kill-session', '-t', '$1']);
  });

  it('puts agent argv after -- and targets panes exactly (T-21, T-34)', () => {
    const cmds = createWindowCommands('mas-abcdef01', {
      index: 2,
      name: 'unit1',
      keepDead: true,
      tiled: false,
      panes: ['10', '11', '12', '13'].map((id) => ({
        agentId: id,
        launched: true,
        cwd: `/ws/${id}`,
        env: { MAS_AGENT_ID: id },
        command: ['/bin/agent', '-x;'],
      })),
    });
    expect(cmds[0]).toEqual([
      'new-window',
      '-d',
      '-t',
      '=mas-abcdef01:2',
      '-n',
      'unit1',
      '-c',
      '/ws/10',
      '-e',
      'MAS_AGENT_ID=10',
      '--',
      '/bin/agent',
      '-x;',
    ]);
    const splits = cmds.filter((c) => c[0] === 'split-window').map((c) => `${c[2]} ${c[4]}`);
    expect(splits).toEqual([
      '-h =mas-abcdef01:2.0',
      '-v =mas-abcdef01:2.0',
      '-v =mas-abcdef01:2.2',
    ]);
    expect(chain(cmds)).toContain('-x\\;');
  });

  it('pipes each agent pane right after it appears, in the same command list, before its tags (§10.2)', () => {
    const pipes = new Map(
      ['10', '11', '12', '13'].map((id) => [id, `exec /usr/bin/tee /proc/42/fd/${id}`]),
    );
    const cmds = createWindowCommands(
      'mas-abcdef01',
      {
        index: 2,
        name: 'unit1',
        keepDead: true,
        tiled: false,
        panes: ['10', '11', '12', '13'].map((id) => ({
          agentId: id,
          launched: true,
          cwd: `/ws/${id}`,
          env: {},
          command: ['/bin/agent'],
        })),
      },
      pipes,
    );
    // every creation is followed (after window options, for new-window) by its pane's pipe
    const order = cmds
      .filter((c) => ['new-window', 'split-window', 'pipe-pane'].includes(c[0]))
      .map((c) => (c[0] === 'pipe-pane' ? `pipe ${c[3]} ${c[4].split('/').pop()}` : c[0]));
    expect(order).toEqual([
      'new-window',
      'pipe =mas-abcdef01:2.0 10',
      'split-window',
      'pipe =mas-abcdef01:2.1 12',
      'split-window',
      'pipe =mas-abcdef01:2.1 11',
      'split-window',
      'pipe =mas-abcdef01:2.3 13',
    ]);
    const i = cmds.findIndex((c) => c[0] === 'pipe-pane');
    expect(cmds[i]).toEqual(['pipe-pane', '-O', '-t', '=mas-abcdef01:2.0', pipes.get('10')]);
    expect(cmds[i + 1].slice(0, 5)).toEqual([
      'set-option',
      '-p',
      '-t',
      '=mas-abcdef01:2.0',
      '@mas_agent_id',
    ]);
    // without pipes (no capture: tmux or legacy sessions), the chain is what it was
    expect(
      createWindowCommands('mas-abcdef01', {
        index: 2,
        name: 'u',
        keepDead: false,
        tiled: false,
        panes: [{ agentId: '10', launched: true, cwd: '/w', env: {} }],
      }).some((c) => c[0] === 'pipe-pane'),
    ).toBe(false);
  });

  it('packs command groups under the 16 KiB client limit, never splitting a group (T-40)', () => {
    const group = (n: number) => [['set-option', '-t', '=x:', '@k', 'v'.repeat(n)]];
    const packed = packCommands([group(10), group(10), group(9000), group(9000), group(10)]);
    expect(packed.map((cmds) => cmds.length)).toEqual([3, 2]);
    for (const cmds of packed)
      expect(argvBytes(chain(cmds))).toBeLessThanOrEqual(MAX_COMMAND_BYTES);
    expect(packCommands([group(1), group(1)])).toHaveLength(1);
  });
});
