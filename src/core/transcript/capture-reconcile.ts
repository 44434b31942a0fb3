import type { TmuxSession } from '../../tmux/tmux.types';

/** At most one capture attempt per session this often: no fork storm from a session that keeps refusing. */
export const RECONCILE_RETRY_MS = 5000;

/** A live workspace session a snapshot attributed to this workspace (§5.1), as capture needs it. */
export interface LiveSession {
  id: string;
  tmuxName: string;
  sessionDir: string;
  /** When the session started: the gap's start when no transcript was ever written. */
  startedAt: Date;
  tmux: TmuxSession;
}

/**
 * Offers a capture to every live workspace session that has none (§10.2): one made live outside the
 * service (the shell tooling recreating `mas-<short>`, A14-7), one whose capture gave up, one whose
 * lock another process held (A14-5). Sessions come from snapshots, so only those §5.1 attributes to
 * this workspace; the caller leaves out sessions being created, restored or written right now.
 */
export class CaptureReconciler {
  private readonly tried = new Map<string, number>();
  private readonly waiting = new Set<Promise<unknown>>();
  /** Attempts that ended without a capture; one still running is not a refusal (no retry listing). */
  private readonly declined = new Set<string>();

  constructor(
    private readonly has: (sessionId: string) => boolean,
    private readonly adopt: (s: LiveSession) => Promise<boolean>,
  ) {}

  /** Sessions whose last attempt ended without a capture (a lock held elsewhere, say): worth a retry. */
  get refused(): number {
    let n = 0;
    for (const id of this.declined) if (!this.has(id)) n++;
    return n;
  }

  offer(live: LiveSession[], now = Date.now()): void {
    const ids = new Set(live.map((s) => s.id));
    for (const id of this.tried.keys()) if (!ids.has(id)) this.tried.delete(id);
    for (const id of this.declined) if (!ids.has(id)) this.declined.delete(id);
    for (const s of live) {
      if (this.has(s.id)) continue;
      if (now - (this.tried.get(s.id) ?? -Infinity) < RECONCILE_RETRY_MS) continue;
      this.tried.set(s.id, now);
      const p = this.adopt(s)
        .then(
          (ok) => (ok ? this.declined.delete(s.id) : this.declined.add(s.id)),
          () => this.declined.add(s.id),
        )
        .finally(() => this.waiting.delete(p));
      this.waiting.add(p);
    }
  }

  /** Settles once every attempt begun so far has. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.waiting]);
  }
}
