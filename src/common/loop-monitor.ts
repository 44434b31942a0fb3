import { Logger } from '@nestjs/common';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * Warns when the event loop stalled: every request of the process waited that long, whatever it
 * was. Checked every `everyMs`; the interval never keeps the process alive. Returns a stop function.
 */
export function watchEventLoop(thresholdMs = 1000, everyMs = 5000): () => void {
  const logger = new Logger('EventLoop');
  const h = monitorEventLoopDelay({ resolution: 20 });
  h.enable();
  const timer = setInterval(() => {
    const maxMs = h.max / 1e6;
    if (maxMs > thresholdMs)
      logger.warn(`event loop stalled for ${maxMs.toFixed(0)}ms in the last ${everyMs / 1000} s`);
    h.reset();
  }, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
