import { ConfigError } from './mas-config';
import { parseEnv } from './parse-env';

describe(parseEnv.name, () => {
  it('applies the contract defaults', () => {
    const c = parseEnv({ PATH: '/bin', TMUX_TMPDIR: '/run/t' }, '/');
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 8765,
      cacheTtlMs: 2000,
      tmuxTimeoutMs: 5000,
      windowCols: 200,
      windowRows: 50,
      sendEof: false,
      agentStopKeys: ['C-c', 'C-c'],
      tmuxControl: true,
    });
    expect(c.tmuxSocket).toMatch(/^\/run\/t\/tmux-\d+\/default$/);
    expect(c.agentCommand).toEqual([
      'claude',
      '--model',
      'sonnet',
      '--dangerously-skip-permissions',
    ]);
    expect(c.breaker).toEqual({
      resetTimeoutMs: 15000,
      rollingWindowMs: 30000,
      volumeThreshold: 5,
      errorThresholdPercentage: 50,
    });
  });

  it('reads a JSON-array agent command without any shell interpretation', () => {
    expect(parseEnv({ MAS_AGENT_COMMAND: '["my agent", "$(id)"]' }).agentCommand).toEqual([
      'my agent',
      '$(id)',
    ]);
  });

  it('lists every problem at once and refuses a non-loopback bind without a token', () => {
    try {
      parseEnv({
        MAS_API_HOST: '0.0.0.0',
        MAS_TMUX_TIMEOUT_MS: '9000',
        MAS_CACHE_TTL_MS: '-1',
        MAS_TMUX_WINDOW_SIZE: 'big',
        MAS_AGENT_STOP_KEYS: 'rm',
      });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).problems).toHaveLength(5);
    }
    expect(parseEnv({ MAS_API_HOST: '0.0.0.0', MAS_API_TOKEN: 't' }).host).toBe('0.0.0.0');
  });

  it('refuses a breaker volume threshold under 5', () => {
    expect(() => parseEnv({ MAS_BREAKER_VOLUME: '1' })).toThrow(ConfigError);
    expect(
      parseEnv({ MAS_BREAKER_VOLUME: '20', MAS_BREAKER_ERROR_PERCENT: '80' }).breaker,
    ).toMatchObject({ volumeThreshold: 20, errorThresholdPercentage: 80 });
  });

  it('turns the control-mode client off only on an explicit false, and refuses anything else', () => {
    expect(parseEnv({ MAS_TMUX_CONTROL: 'false' }).tmuxControl).toBe(false);
    expect(() => parseEnv({ MAS_TMUX_CONTROL: 'off' })).toThrow(ConfigError);
  });

  it('rejects a socket path of 108 bytes or more (T-01)', () => {
    expect(() => parseEnv({ MAS_TMUX_SOCKET: `/tmp/${'x'.repeat(110)}` })).toThrow(ConfigError);
  });
});
