import { Logger } from '@nestjs/common';
import { watchEventLoop } from './loop-monitor';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(watchEventLoop.name, () => {
  it('warns after a synchronous block longer than the threshold, and stays quiet otherwise', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const stop = watchEventLoop(500, 300); // a threshold well above this VM's scheduling noise
    try {
      await sleep(700);
      expect(warn).not.toHaveBeenCalled();
      const until = Date.now() + 1000;
      while (Date.now() < until) {
        /* hold the event loop, as the old rate-limit store did */
      }
      await sleep(700);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^event loop stalled for \d+ms/));
    } finally {
      stop();
      warn.mockRestore();
    }
  });
});
