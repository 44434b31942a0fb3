import * as http from 'node:http';

/**
 * The R15 watcher, a process of its own so its parsing neither slows nor is slowed by the bench's
 * load generator: one `curl -N`-like client on `GET /events?types=output` (§10.3). Every line an
 * agent printed starts with `T=<epoch ms>`, the time of its write; the latency of a line is the
 * arrival of the event that completes it minus that time. Once a second it prints one JSON line to
 * stdout: the latencies seen, events, data bytes, gaps, and breaks in the `from`/`next` chain.
 * Usage: r15-client.ts <port>
 */
const port = Number(process.argv[2]);
const now = () => performance.timeOrigin + performance.now();

let lat: number[] = [];
let events = 0;
let bytes = 0;
let gaps = 0;
let breaks = 0;
/** Per agent: where its next event must start, and the unfinished last line. */
const next = new Map<string, number>();
const carry = new Map<string, string>();

interface Output {
  sessionId: string;
  agentId: string;
  from: number;
  next: number;
  data: string;
}

function output(o: Output, at: number): void {
  const key = `${o.sessionId}/${o.agentId}`;
  const expected = next.get(key);
  if (expected !== undefined && o.from !== expected) breaks++;
  next.set(key, o.next);
  events++;
  bytes += o.next - o.from;
  const lines = ((carry.get(key) ?? '') + o.data).split('\n');
  carry.set(key, lines.pop()!.slice(-200));
  for (const l of lines) {
    const m = /T=(\d{13})/.exec(l);
    if (m) lat.push(at - Number(m[1]));
  }
}

function frame(text: string, at: number): void {
  let type = 'message';
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('event: ')) type = line.slice(7);
    else if (line.startsWith('data: ')) data += line.slice(6);
  }
  if (type === 'output') output(JSON.parse(data) as Output, at);
  else if (type === 'gap') {
    gaps++;
    // a gap breaks the chain on purpose: start each agent's chain afresh
    const g = JSON.parse(data) as { sessionId?: string; agentId?: string };
    if (g.agentId) next.delete(`${g.sessionId}/${g.agentId}`);
    else next.clear();
  }
}

const report = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const req = http.get(
  {
    host: '127.0.0.1',
    port,
    path: '/events?types=output',
    headers: { accept: 'text/event-stream' },
  },
  (res) => {
    if (res.statusCode !== 200) {
      report({ error: `GET /events answered ${res.statusCode}` });
      process.exit(1);
    }
    report({ connected: true });
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (chunk: string) => {
      const at = now(); // arrival, before any parsing
      buf += chunk;
      // one pass with a moving start: slicing the rest after each frame is quadratic in a big chunk
      let start = 0;
      for (let i; (i = buf.indexOf('\n\n', start)) >= 0; start = i + 2)
        frame(buf.slice(start, i), at);
      buf = buf.slice(start);
    });
    res.on('end', () => {
      report({ error: 'stream ended' });
      process.exit(1);
    });
  },
);
req.on('error', (e) => {
  report({ error: String(e) });
  process.exit(1);
});

setInterval(() => {
  report({ at: Date.now(), lat, events, bytes, gaps, breaks });
  lat = [];
  events = bytes = gaps = breaks = 0;
}, 1000);
process.stdin.on('end', () => process.exit(0)); // the bench went away
process.stdin.resume();
