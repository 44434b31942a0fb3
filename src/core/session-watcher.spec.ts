import { Logger } from '@nestjs/common';
import type { EventBus } from './event-bus';
import type { SessionStore } from './session-store';
import { SessionWatcher } from './session-watcher';

describe('SessionWatcher', () => {
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('logs a failing poll once per distinct failure and its recovery once, not twice a second', async () => {
    let failure: Error | undefined = new Error('tmux is unavailable (breaker_open)');
    const store: Partial<SessionStore> = {
      peekSnapshot: () => undefined,
      snapshot: async () => {
        if (failure) throw failure;
        return { sessions: [], takenAt: Date.now() } as unknown as Awaited<
          ReturnType<SessionStore['snapshot']>
        >;
      },
    };
    const bus: Partial<EventBus> = { publish: jest.fn() };
    Object.defineProperty(bus, 'subscribers', { get: () => 1 });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.useFakeTimers();
    const w = new SessionWatcher(store as SessionStore, bus as EventBus);
    await w.ensure();
    await jest.advanceTimersByTimeAsync(5000);
    expect(warn).toHaveBeenCalledTimes(1);
    failure = new Error('tmux did not answer in time');
    await jest.advanceTimersByTimeAsync(2000);
    expect(warn).toHaveBeenCalledTimes(2);
    failure = undefined;
    await jest.advanceTimersByTimeAsync(2000);
    expect(log).toHaveBeenCalledTimes(1);
    expect(String(log.mock.calls[0][0])).toContain('recovered');
    w.onModuleDestroy();
  });
});
