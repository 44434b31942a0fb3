// eslint-disable-next-line no-restricted-imports -- the spec replaces spawn to make it fail as Node does under EMFILE
import childProcess = require('node:child_process');
import { parseEnv } from '../config/parse-env';
import { SpawnTmuxRunner } from './tmux-runner';
import { TmuxGateway } from './tmux.gateway';

/**
 * What Node does when fork or the pipes fail (lib/internal/child_process.js): no pid, no pipes under
 * EMFILE/ENFILE, then 'error' and 'close' on the next tick. An 'error' nobody listens to throws.
 */
function failedChild(code: string): childProcess.ChildProcess {
  // a ChildProcess that never spawned: no pid, and stdin, stdout and stderr are null
  const c = new childProcess.ChildProcess();
  process.nextTick(() => {
    c.emit(
      'error',
      Object.assign(new Error(`spawn tmux ${code}`), { code, syscall: 'spawn tmux' }),
    );
    c.emit('close', -24, null);
  });
  return c;
}

describe('SpawnTmuxRunner when spawn fails for lack of resources (issue 12 #2, A6)', () => {
  const cfg = parseEnv(
    { PATH: '/usr/bin:/bin', MAS_TMUX_SOCKET: '/tmp/none/s', MAS_TMUX_CONTROL: 'false' },
    '/',
  );
  let spy: jest.SpyInstance;
  afterEach(() => spy.mockRestore());

  it.each(['EMFILE', 'ENFILE', 'EAGAIN'])(
    'spawn %s: run() resolves with the spawn error, no crash, no TypeError',
    async (code) => {
      spy = jest.spyOn(childProcess, 'spawn').mockImplementation(() => failedChild(code));
      const r = await new SpawnTmuxRunner(cfg).run(['list-panes', '-a']);
      expect(r).toMatchObject({ spawnError: code, exitCode: null, timedOut: false });
    },
  );

  it('a synchronous ENOMEM resolves the same way', async () => {
    spy = jest.spyOn(childProcess, 'spawn').mockImplementation(() => {
      throw Object.assign(new Error('spawn ENOMEM'), { code: 'ENOMEM' });
    });
    expect(await new SpawnTmuxRunner(cfg).run(['-V'])).toMatchObject({ spawnError: 'ENOMEM' });
  });

  it('EMFILE: the gateway answers 503 TMUX_UNAVAILABLE resources with Retry-After', async () => {
    spy = jest.spyOn(childProcess, 'spawn').mockImplementation(() => failedChild('EMFILE'));
    const gw = new TmuxGateway(new SpawnTmuxRunner(cfg), cfg);
    try {
      await expect(gw.listTree()).rejects.toMatchObject({
        code: 'TMUX_UNAVAILABLE',
        details: { reason: 'resources' },
        retryAfter: expect.any(Number),
      });
    } finally {
      gw.onModuleDestroy();
    }
  });

  it('EMFILE on a control client: control() throws (the caller forks), the error event is heard', () => {
    spy = jest.spyOn(childProcess, 'spawn').mockImplementation(() => failedChild('EMFILE'));
    expect(() => new SpawnTmuxRunner(cfg).control(['-C', 'attach-session', '-t', '$1'])).toThrow(
      /could not be spawned/,
    );
  });
});
