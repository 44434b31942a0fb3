import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait-for';

export interface SseEvent {
  id?: string;
  event?: string;
  data: Record<string, unknown>;
}

/**
 * A minimal `text/event-stream` reader over node:http (what `curl -N` or a fetch stream does):
 * frames parsed as they arrive, comments kept apart. `paused` opens without ever reading the body.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  body = '';
  ended = false;
  private buf = '';

  private constructor(
    readonly req: http.ClientRequest,
    readonly res: http.IncomingMessage,
  ) {}

  static open(
    server: http.Server | number,
    path: string,
    headers: Record<string, string> = {},
    opts: { paused?: boolean } = {},
  ): Promise<SseClient> {
    const port = typeof server === 'number' ? server : (server.address() as AddressInfo).port;
    return new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
        const c = new SseClient(req, res);
        res.once('close', () => (c.ended = true));
        res.once('end', () => (c.ended = true));
        if (opts.paused) res.pause();
        else c.read();
        resolve(c);
      });
      req.once('error', reject);
    });
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  of(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Waits for an event matching `pred` and returns it. */
  next(pred: (e: SseEvent) => boolean, timeoutMs = 8000): Promise<SseEvent> {
    return waitFor(() => this.events.find(pred), timeoutMs, 20) as Promise<SseEvent>;
  }

  /** Reads the body from now on (a `paused` client that starts reading). */
  read(): void {
    const dec = new TextDecoder('utf-8');
    this.res.on('data', (chunk: Buffer) => {
      const text = dec.decode(chunk, { stream: true });
      this.body += text;
      this.feed(text);
    });
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
  }

  private feed(text: string): void {
    this.buf += text;
    let i: number;
    while ((i = this.buf.indexOf('\n\n')) >= 0) {
      const frame = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      const e: Partial<SseEvent> & { data?: unknown } = {};
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('id: ')) e.id = line.slice(4);
        else if (line.startsWith('event: ')) e.event = line.slice(7);
        else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
      }
      if (e.event) this.events.push(e as SseEvent);
    }
  }
}
