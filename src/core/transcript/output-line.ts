const LF = 0x0a;
const BACKSLASH = 0x5c;
const OUTPUT = Buffer.from('%output %');

const isOctal = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x37;

/**
 * `%output` data as tmux sends it (T-72): bytes below 0x20 and the backslash itself as `\ooo`, every
 * other byte raw. Returns the pane's bytes exactly; a UTF-8 character may straddle two notifications.
 */
export function unescapeOutput(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let j = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i];
    if (c === BACKSLASH && isOctal(data[i + 1]) && isOctal(data[i + 2]) && isOctal(data[i + 3])) {
      out[j++] = ((data[i + 1] - 0x30) << 6) | ((data[i + 2] - 0x30) << 3) | (data[i + 3] - 0x30);
      i += 3;
    } else out[j++] = c;
  }
  return out.subarray(0, j);
}

/**
 * Splits a control client's stdout into lines as bytes (never as text: pane output is not
 * necessarily UTF-8) and hands `%output` lines over as pane id and raw bytes; any other line
 * (replies, other notifications) as latin1 text.
 */
export class OutputLineReader {
  private rest = Buffer.alloc(0);

  constructor(
    private readonly onOutput: (paneId: string, bytes: Buffer) => void,
    private readonly onLine: (line: string) => void,
  ) {}

  push(chunk: Buffer): void {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(LF, start); nl >= 0; nl = buf.indexOf(LF, start)) {
      this.line(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.rest = Buffer.from(buf.subarray(start));
  }

  private line(l: Buffer): void {
    if (l.subarray(0, OUTPUT.length).equals(OUTPUT)) {
      const sp = l.indexOf(0x20, OUTPUT.length);
      if (sp > 0) {
        this.onOutput(
          l.subarray(OUTPUT.length - 1, sp).toString('latin1'),
          unescapeOutput(l.subarray(sp + 1)),
        );
        return;
      }
    }
    this.onLine(l.toString('latin1'));
  }
}
