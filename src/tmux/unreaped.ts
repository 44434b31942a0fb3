import type { TmuxTree } from './tmux.types';

/**
 * A pane whose process has gone (pty closed) but whose exit tmux has not collected: no status and no
 * signal. With `pipe-pane` children about, tmux 3.3a sometimes misses an agent's SIGCHLD and leaves
 * it a zombie, the pane so for good, read as `exit_unknown` (decision 0008). Any later child exit
 * makes tmux reap every child (`waitpid(WAIT_ANY)` in a loop), which is what {@link ReapNudge} causes.
 */
export function hasUnreaped(tree: TmuxTree): boolean {
  return tree.sessions.some((s) =>
    s.windows.some((w) =>
      w.panes.some((p) => p.dead && p.deadStatus === null && p.deadSignal === null),
    ),
  );
}

/**
 * `run-shell 'exit 0'`: a job whose exit tmux waits for, so by its reply tmux has reaped every exited
 * child. A fixed command string with no request text (R7). At most once per `everyMs`: a pane it does
 * not help (another tmux) must not double every listing.
 */
export class ReapNudge {
  static readonly ARGS = ['run-shell', 'exit 0'];
  private last = 0;

  constructor(private readonly everyMs = 1000) {}

  /** Whether a listing showing `tree` should nudge and list again now. */
  due(tree: TmuxTree, now = Date.now()): boolean {
    if (now - this.last < this.everyMs || !hasUnreaped(tree)) return false;
    this.last = now;
    return true;
  }
}
