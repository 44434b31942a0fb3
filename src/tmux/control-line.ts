/**
 * Framing of the tmux control protocol (T-71, T-74): command lines out, reply blocks in. Pure, so
 * the unit specs cover it without a process.
 */

/**
 * Control lines go through tmux's full command parser (T-74): `;` splits commands, `#` starts a
 * comment, `~`, `$VAR` and `\` are expanded outside quotes. Inside single quotes tmux 3.3a takes
 * every character literally (verified, including `\`, `#{}` and UTF-8), and `'\''` puts a quote in.
 * A control character would end or corrupt the line, so such an argument is refused and the caller
 * forks instead.
 */
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f]/;

export function quoteArg(arg: string): string | null {
  if (UNSAFE.test(arg)) return null;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** One line holding the commands in order, separated like an argv chain; null if any is unsafe. */
export function controlLine(commands: string[][]): string | null {
  const parts: string[] = [];
  for (const cmd of commands) {
    const quoted = cmd.map(quoteArg);
    if (quoted.some((q) => q === null)) return null;
    parts.push(quoted.join(' '));
  }
  return parts.join(' ; ');
}

export interface Block {
  ok: boolean;
  /** Output lines; for `%error`, tmux's message. */
  lines: string[];
  /** Commands sent by this client carry flags 1; the attach acknowledgement carries 0. */
  fromClient: boolean;
}

const BEGIN = /^%begin (\d+) (\d+) (\d+)$/;

/**
 * Splits the client's stdout into reply blocks and notifications. A block ends only on the
 * `%end`/`%error` line with the same time, number and flags as its `%begin`, so an output line that
 * merely starts with `%end` (a process can name itself that, T-11) cannot end it early.
 */
export class BlockReader {
  private partial = '';
  private open: { end: string; error: string; lines: string[]; fromClient: boolean } | null = null;

  constructor(
    private readonly onBlock: (b: Block) => void,
    private readonly onNotification: (line: string) => void,
  ) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (this.open) {
      if (line === this.open.end || line === this.open.error) {
        const b = this.open;
        this.open = null;
        this.onBlock({ ok: line === b.end, lines: b.lines, fromClient: b.fromClient });
      } else this.open.lines.push(line);
      return;
    }
    const m = BEGIN.exec(line);
    if (m) {
      const tail = `${m[1]} ${m[2]} ${m[3]}`;
      this.open = {
        end: `%end ${tail}`,
        error: `%error ${tail}`,
        lines: [],
        fromClient: m[3] === '1',
      };
    } else if (line.startsWith('%')) this.onNotification(line);
  }
}
