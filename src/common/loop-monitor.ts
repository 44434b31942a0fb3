import { Logger } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Warns when the event loop stalled: every request of the process waited that long, whatever it
 * was. Checked every 5 s; the interval never keeps the process alive.
 */
export function watchEventLoop(thresholdMs = 1000): void {
  const logger = new Logger('EventLoop');
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  setInterval(() => {
    const maxMs = h.max / 1e6;
    if (maxMs > thresholdMs) logger.warn(`event loop stalled for ${maxMs.toFixed(0)}ms in the last 5 s`);
    h.reset();
  }, 5000).unref();
}
