// eslint-disable-next-line no-restricted-imports -- the round trip needs a real tmux reading stdin
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { configQuote, secretEnvCommands, secretEnvScript } from './secret-env';

describe('secret environment on stdin (issue 12 #4, A5)', () => {
  const hostile = [
    'plain-value_1.2',
    `quotes ' and " and \\ backslash`,
    '$HOME ${HOME} ~root ~',
    '#{session_name} #(touch /tmp/pwned) # comment',
    'semi; colon ;',
    'line one\nline two\ttab\r',
    'émoji 😀 漢字',
    '',
  ];

  it('quotes every byte outside a plain set as an octal escape', () => {
    expect(configQuote('a-b_c')).toBe('"a-b_c"');
    expect(configQuote(`$'"\n`)).toBe('"\\044\\047\\042\\012"');
    expect(configQuote('é')).toBe('"\\303\\251"');
  });

  it('puts values only in the script, never in a command that could become argv', () => {
    const script = secretEnvScript('=mas-0123abcd', { TOKEN_X: 'v;1' });
    expect(script).toBe(`set-environment -t '=mas-0123abcd:' TOKEN_X "v\\0731"\n`);
    expect(secretEnvCommands('=mas-0123abcd', { TOKEN_X: 'v' })).toEqual([
      ['set-environment', '-t', '=mas-0123abcd:', 'TOKEN_X', 'v'],
    ]);
  });

  it('tmux 3.3a reads every hostile value back byte for byte through source-file -', () => {
    const dir = mkdtempSync('/tmp/mse-');
    const tmux = (args: string[], input?: string) =>
      spawnSync('tmux', ['-u', '-S', path.join(dir, 's'), '-f', '/dev/null', ...args], {
        input,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, LC_ALL: 'C.UTF-8' },
      });
    try {
      const env = Object.fromEntries(hostile.map((v, i) => [`SECRET_${i}`, v]));
      const r = tmux(
        ['new-session', '-d', '-s', 'mas-0123abcd', ';', 'source-file', '-'],
        secretEnvScript('=mas-0123abcd', env),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (const [k, v] of Object.entries(env)) {
        const shown = tmux(['show-environment', '-t', '=mas-0123abcd:', k]).stdout;
        expect(shown).toBe(`${k}=${v}\n`);
      }
    } finally {
      tmux(['kill-server']);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
