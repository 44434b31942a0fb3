import { TmuxError } from '../errors/mas-error';

/**
 * Caps simultaneous tmux clients (T-54, contract R6). Sits in front of the breaker so queueing
 * never counts as a tmux failure; a full queue is a 503 `busy`.
 */
export class Limiter {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly max = 8,
    private readonly maxQueued = 64,
  ) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) {
      if (this.queue.length >= this.maxQueued) throw TmuxError.unavailable('busy', 1);
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
