import { classifyStderr, classifyTmuxFailure } from './tmux.errors';
import type { RunResult } from './tmux-runner';

const res = (over: Partial<RunResult>): RunResult => ({
  exitCode: 1,
  stdout: '',
  stderr: '',
  timedOut: false,
  overflow: false,
  durationMs: 1,
  ...over,
});

describe('classifyStderr (T-60, tmux 3.3a wording)', () => {
  it.each([
    ['error connecting to /tmp/x/s (No such file or directory)', 'NO_SERVER'],
    ['no server running on /tmp/x/s', 'NO_SERVER'],
    ['error connecting to /tmp/x/s (File name too long)', 'MISCONFIG'],
    ['directory /tmp/tmux-0 has unsafe permissions', 'MISCONFIG'],
    ['protocol version mismatch (client 8, server 7)', 'MISCONFIG'],
    ['server exited unexpectedly', 'TRANSIENT'],
    ["can't find session: mas-abcdef01", 'NOT_FOUND'],
    ["can't find pane: %99", 'NOT_FOUND'],
    ['no such session: =mas-abcdef01', 'NOT_FOUND'],
    ['duplicate session: mas-abcdef01', 'CONFLICT'],
    ['command too long', 'BUG'],
    ['unknown flag -a', 'BUG'],
    ['no space for new pane', 'UNKNOWN'],
    ['', 'UNKNOWN'],
  ])('%s → %s', (stderr, cls) => expect(classifyStderr(stderr)).toBe(cls));
});

describe('classifyTmuxFailure', () => {
  it('a killed client is a timeout even when it exited 0 (T-50)', () => {
    const e = classifyTmuxFailure(res({ exitCode: 0, timedOut: true }), 'list-panes', false);
    expect(e).toMatchObject({ code: 'TMUX_TIMEOUT', details: { outcome: 'none' } });
    expect(
      classifyTmuxFailure(res({ timedOut: true }), 'paste-buffer', true).details,
    ).toMatchObject({ outcome: 'unknown' });
  });
  it('a missing binary is not_installed (T-53)', () => {
    expect(classifyTmuxFailure(res({ spawnError: 'ENOENT' }), 'x', false)).toMatchObject({
      code: 'TMUX_UNAVAILABLE',
      details: { reason: 'not_installed' },
    });
  });
  it('never echoes stderr to clients', () => {
    const e = classifyTmuxFailure(res({ stderr: 'weird secret /path\n' }), 'x', false);
    expect(e.code).toBe('TMUX_ERROR');
    expect(JSON.stringify(e.details)).not.toContain('secret');
  });
});
