/**
 * Transcript capture cost, pipe-pane (decision 0008) against the control client's `%output`:
 * `npx ts-node bench/pipe-capture.ts` (BENCH_CAPTURE=control for the old byte source, BENCH_MB,
 * BENCH_LATENCY_SAMPLES). Prints one JSON line: CPU per MB of the service process, the tmux server
 * and the `tee`s; latency from a write to the pane's terminal to the `output` callback; `tee` RSS;
 * and the A14c-3 print-and-exit scenario (5 panes × 400 lines, then exit) captured bytes.
 */
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import * as path from 'node:path';
import request from 'supertest';
import * as pipeModule from '../src/core/transcript/capture-pipe';
import { CaptureService } from '../src/core/transcript/capture.service';
import { createTestApp } from '../test/support/create-test-app';
import { TmuxTestServer } from '../test/support/tmux-server';

const MODE = process.env.BENCH_CAPTURE ?? 'pipe';
const MB = Number(process.env.BENCH_MB ?? 20);
const SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
if (MODE === 'control')
  (pipeModule as { findPipeBinaries: () => undefined }).findPipeBinaries = () => undefined;

const TICK_MS = 1000 / 100; // USER_HZ
const cpuMs = (pid: number): number => {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
};
const children = (ppid: number, name: RegExp): number[] =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppidOf = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
        const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
        return ppidOf === ppid && name.test(argv0);
      } catch {
        return false;
      }
    })
    .map(Number);
const rssKb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
/** Proportional set size: shared libc pages counted once across the processes sharing them. */
const pssKb = (pid: number): number =>
  Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = realpathSync(mkdtempSync('/tmp/mpb-'));
  const agent = path.join(dir, 'agent');
  // flood: waits for a line, prints MB of base64, then DONE; exiters: A14c-3's print-and-exit
  writeFileSync(
    agent,
    [
      '#!/bin/sh',
      'stty -echo 2>/dev/null',
      'case "$MAS_AGENT_ID" in 1[1-5])',
      '  i=0; while [ "$i" -lt 400 ]; do printf \'line %04d %0100d\\n\' "$i" 0; i=$((i + 1)); done',
      "  printf 'end>'; exit 3 ;;",
      '00)',
      '  read l',
      `  head -c ${Math.round((MB * 1024 * 1024 * 3) / 4)} /dev/zero | base64`,
      "  printf 'DONE\\n' ;;",
      'esac',
      'exec cat >/dev/null',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const server = TmuxTestServer.create();
  const t = await createTestApp(server, {
    MAS_AGENT_COMMAND: agent,
    MAS_PROMPT_DELAY_MS: '60000', // the bench types the flood's line itself
    MAS_AGENT_LAUNCH_CHECK_MS: '200',
    MAS_OUTPUT_MAX_BYTES: String(1024 * 1024 * 1024),
  });
  const capture = t.app.get(CaptureService);
  let bytes = 0;
  let onText: ((s: string) => void) | undefined;
  capture.onOutput((o) => {
    if (o.agentId !== '00') return;
    bytes += o.bytes.length;
    onText?.(o.bytes.toString('latin1'));
  });
  const s = (
    await request(t.http)
      .post('/runs')
      .send({
        agents: {
          metaManager: { id: '00', prompt: 'go' },
          units: [
            {
              unitId: 1,
              manager: { id: '10', prompt: 'go' },
              workers: [{ id: '11', prompt: 'go' }],
            },
          ],
        },
      })
      .expect(201)
  ).body as { sessionId: string; tmuxSession: string };
  const serverPid = Number((await server.ok('display-message', '-p', '#{pid}')).trim());
  // the prompt `go` is typed after MAS_PROMPT_DELAY_MS: the flood starts then
  const t0 = { node: process.cpuUsage(), tmux: cpuMs(serverPid), wall: Date.now() };
  const tees0 = children(serverPid, /tee$/);
  const teeCpu0 = tees0.map(cpuMs);
  const pane00 = (
    await server.ok(
      'list-panes',
      '-s',
      '-t',
      `=${s.tmuxSession}`,
      '-F',
      '#{@mas_agent_id} #{pane_id}',
    )
  )
    .split('\n')
    .find((l) => l.startsWith('00 '))!
    .split(' ')[1];
  const done = new Promise<void>((resolve) => {
    let tail = '';
    onText = (x) => {
      tail = (tail + x).slice(-16);
      if (tail.includes('DONE')) resolve();
    };
  });
  await server.ok('send-keys', '-t', pane00, 'go', 'Enter');
  await done;
  console.error(`flood captured: ${bytes} bytes`);
  const node = process.cpuUsage(t0.node);
  const tees = children(serverPid, /tee$/);
  const result: Record<string, unknown> = {
    mode: MODE,
    mb: +(bytes / 1048576).toFixed(1),
    wallMs: Date.now() - t0.wall,
    cpuMsPerMb: {
      service: +((node.user + node.system) / 1000 / (bytes / 1048576)).toFixed(1),
      tmux: +((cpuMs(serverPid) - t0.tmux) / (bytes / 1048576)).toFixed(1),
      tee: +(
        tees0.reduce((n, p, i) => n + (tees.includes(p) ? cpuMs(p) - teeCpu0[i] : 0), 0) /
        (bytes / 1048576)
      ).toFixed(1),
    },
    teeRssKb: tees.map(rssKb),
    teePssKb: tees.map(pssKb),
  };
  // latency: a write to the pane's terminal (as the agent's own write would be) → output callback
  const agentTty = (
    await server.ok(
      'list-panes',
      '-s',
      '-t',
      `=${s.tmuxSession}`,
      '-F',
      '#{@mas_agent_id} #{pane_tty}',
    )
  )
    .split('\n')
    .find((l) => l.startsWith('00 '))!
    .split(' ')[1];
  const fd = openSync(agentTty, 'w');
  const lat: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const mark = `M${i}x`;
    const seen = new Promise<void>((resolve) => {
      let buf = '';
      onText = (x) => {
        buf += x;
        if (buf.includes(mark)) resolve();
      };
    });
    const a = process.hrtime.bigint();
    writeSync(fd, `${mark}\n`);
    await seen;
    lat.push(Number(process.hrtime.bigint() - a) / 1e6);
    await sleep(5);
  }
  closeSync(fd);
  lat.sort((x, y) => x - y);
  result.latencyMs = {
    p50: +lat[Math.floor(lat.length * 0.5)].toFixed(2),
    p95: +lat[Math.floor(lat.length * 0.95)].toFixed(2),
    max: +lat[lat.length - 1].toFixed(2),
  };
  // A14c-3: five workers print 400 lines (44,800 bytes each on the terminal) and exit at once
  const team = {
    agents: {
      metaManager: { id: '00', prompt: 'go' },
      units: [
        {
          unitId: 1,
          manager: { id: '10', prompt: 'go' },
          workers: ['11', '12', '13', '14', '15'].map((id) => ({ id, prompt: 'go' })),
        },
      ],
    },
  };
  const x = (await request(t.http).post('/runs').send(team).expect(201)).body as {
    sessionId: string;
  };
  await sleep(4000);
  const got: number[] = [];
  for (const id of ['11', '12', '13', '14', '15']) {
    const r = await request(t.http)
      .get(`/sessions/${x.sessionId}/agents/${id}/output?from=0&limit=1048576&format=base64`)
      .expect(200);
    got.push(Buffer.from(r.body.data as string, 'base64').length);
  }
  result.printAndExit = { expectedBytes: 400 * 112 + 4, got };
  console.log(JSON.stringify(result));
  await t.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

void main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
