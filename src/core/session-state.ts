import { Injectable } from '@nestjs/common';
import { TmuxError } from '../errors/mas-error';
import type { StartupView } from './startup';

/**
 * What only this process knows (contract §1.1): restores in progress, creates not yet answered,
 * startup jobs, and the per-session write locks (R6).
 */
@Injectable()
export class SessionState {
  readonly restoring = new Set<string>();
  readonly hidden = new Set<string>();
  readonly startups = new Map<string, StartupView & { cancel: () => void }>();
  private readonly locks = new Map<string, Promise<unknown>>();

  /** Serialises writes to one session; different sessions proceed in parallel. */
  async withLock<T>(id: string, fn: () => Promise<T>, waitMs = 20_000): Promise<T> {
    const prev = this.locks.get(id) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const chained = prev.then(() => mine);
    this.locks.set(id, chained);
    let timer: NodeJS.Timeout | undefined;
    try {
      const waited = await Promise.race([
        prev.then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs))),
      ]);
      if (!waited) throw TmuxError.unavailable('busy', 1);
      return await fn();
    } finally {
      clearTimeout(timer);
      release();
      if (this.locks.get(id) === chained) this.locks.delete(id);
    }
  }

  /** A write (stop, restore, message, startup prompt) holds or awaits the session's lock. */
  isLocked(id: string): boolean {
    return this.locks.has(id);
  }

  isStarting(id: string): boolean {
    return this.startups.get(id)?.state === 'starting';
  }
}
