/** DI token for the runner: the one seam tests replace (a recording fake, or the real spawn runner). */
export const TMUX_RUNNER = Symbol('TMUX_RUNNER');
