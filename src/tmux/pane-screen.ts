import { TmuxError } from '../errors/mas-error';
import { FS, RS } from './tmux-format';

/** One pane's screen as tmux printed it (§10.1), before any trimming. */
export interface PaneScreen {
  width: number;
  height: number;
  /** Column and row on the visible screen; row 0 is its top row (tmux `cursor_x`, `cursor_y`). */
  cursor: { x: number; y: number };
  /** History lines captured above the visible screen, wrapped lines joined: at most the request. */
  history: string[];
  /** The visible rows, wrapped lines joined (so possibly fewer than `height`). */
  visible: string[];
  /** The pane's death as of this capture (T-12), fresher than a cached snapshot. */
  dead: boolean;
  deadStatus: number | null;
  deadSignal: number | null;
}

const SCREEN_FIELDS = [
  'pane_width',
  'pane_height',
  'cursor_x',
  'cursor_y',
  'history_size',
  'pane_dead',
  'pane_dead_status',
  'pane_dead_signal',
] as const;

/** The `display-message` line: a per-call nonce after RS, so no pane text can forge it (T-11). */
export const screenTemplate = (nonce: string): string =>
  RS + nonce + SCREEN_FIELDS.map((f) => `#{${f}}`).join(FS);

const unparsable = () =>
  new TmuxError('TMUX_ERROR', 'tmux printed unparsable output', { reason: 'parse_failed' });

/** `a\nb\n` → [a, b]; a capture ends every line with LF except a wrapped last one (joined, -J). */
const splitLines = (text: string): string[] =>
  text === '' ? [] : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');

/**
 * Splits the output of {@link paneScreenCommands} at the marker line. When the pane has no history
 * tmux clamps `-S -n -E -1` to the top visible row instead of printing nothing, so the history
 * capture is dropped when `history_size` is 0.
 */
export function parsePaneScreen(stdout: string, nonce: string): PaneScreen {
  const at = stdout.indexOf(RS + nonce);
  if (at < 0) throw unparsable();
  const eol = stdout.indexOf('\n', at);
  if (eol < 0) throw unparsable();
  const fields = stdout.slice(at + RS.length + nonce.length, eol).split(FS);
  // the two exit fields are empty while the pane lives (or before tmux reaped it, T-77)
  if (
    fields.length !== SCREEN_FIELDS.length ||
    !fields.every((f, i) => /^[0-9]{1,9}$/.test(f) || (i >= 6 && f === ''))
  )
    throw unparsable();
  const [width, height, x, y, historySize, dead] = fields.map(Number);
  const orNull = (f: string) => (f === '' ? null : Number(f));
  return {
    width,
    height,
    cursor: { x, y },
    history: historySize > 0 ? splitLines(stdout.slice(0, at)) : [],
    visible: splitLines(stdout.slice(eol + 1)),
    dead: dead === 1,
    deadStatus: orNull(fields[6]),
    deadSignal: orNull(fields[7]),
  };
}
