import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { hit } from './load';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The R15 world: a private tmux server, a workspace, the agent script, one service. The agent is
 * a fixed bash script written here (no input in it): while the flag file exists it prints ~10 lines
 * of 100 B a second (`T=<epoch ms> ` and padding), with no fork per line (`$EPOCHREALTIME`,
 * `printf` and `read -t` are builtins), so 650 of them cost the machine little beyond their output.
 */
export class R15World {
  readonly tmp = mkdtempSync('/tmp/mr15-');
  readonly ws = mkdtempSync('/tmp/mr15w-');
  readonly flag = path.join(this.tmp, 'live');
  private readonly socket = path.join(this.tmp, 's');
  private readonly conf = path.join(this.tmp, 'empty.conf');
  private readonly agent = path.join(this.tmp, 'agent.sh');
  service?: ChildProcess;

  constructor(readonly port: number) {
    writeFileSync(this.conf, '');
    writeFileSync(
      this.agent,
      [
        '#!/bin/bash',
        `pad=${'x'.repeat(83)}`,
        'while :; do',
        // silent, it looks for the flag twice a second: 650 idle agents stay cheap
        '  wait=0.5',
        `  if [[ -e ${this.flag} ]]; then t=\${EPOCHREALTIME//[.,]/}; printf 'T=%s %s\\n' "\${t:0:13}" "$pad"; wait=0.1; fi`,
        // EOF (status 1): the pane is gone; a timeout (> 128) or a typed line: go on
        '  read -t $wait -r _; [[ $? == 1 ]] && exit 0',
        'done',
        '',
      ].join('\n'),
    );
    chmodSync(this.agent, 0o755);
  }

  tmux(...a: string[]): string {
    return execFileSync('tmux', ['-u', '-S', this.socket, '-f', this.conf, ...a], {
      env: { PATH: process.env.PATH!, LC_ALL: 'C.UTF-8', HOME: this.tmp },
    }).toString();
  }

  tmuxPid(): number {
    return Number(this.tmux('display-message', '-p', '#{pid}'));
  }

  async start(): Promise<number> {
    this.tmux('new-session', '-d', '-s', 'bench-keepalive', 'sleep 100000');
    // BENCH_R15_NODE_FLAGS, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`: where the service's time goes
    const flags = (process.env.BENCH_R15_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const main = path.join(__dirname, '..', 'dist', 'main.js');
    this.service = spawn(process.execPath, [...flags, main], {
      env: {
        PATH: process.env.PATH!,
        HOME: this.tmp,
        LC_ALL: 'C.UTF-8',
        MAS_API_PORT: String(this.port),
        MAS_WORKSPACE_ROOT: this.ws,
        MAS_TMUX_SOCKET: this.socket,
        MAS_TMUX_CONFIG: this.conf,
        MAS_AGENT_COMMAND: JSON.stringify([this.agent]),
        MAS_PROMPT_DELAY_MS: '200',
        MAS_AGENT_LAUNCH_CHECK_MS: '200',
        MAS_RATE_LIMIT_RUNS: '1000000',
        MAS_RATE_LIMIT_MESSAGE: '1000000',
        MAS_RATE_LIMIT_OTHER: '1000000',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 200; i++) {
      if ((await hit(this.port, 'GET', '/health')).status === 200) return this.service.pid!;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`service on ${this.port} did not start`);
  }

  /** Everything goes: the service, the tmux server (SIGKILL if kill-server fails), the directories. */
  stop(): void {
    this.service?.kill('SIGTERM');
    let pid = 0;
    try {
      pid = this.tmuxPid();
      this.tmux('kill-server');
    } catch {
      /* gone, or killed below */
    }
    try {
      if (pid) process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    rmSync(this.tmp, { recursive: true, force: true });
    rmSync(this.ws, { recursive: true, force: true });
  }
}

/** A 13-agent team, as bench.ts creates. */
const TEAM = JSON.stringify({
  agents: {
    metaManager: { id: '00', prompt: 'p' },
    units: [1, 2, 3].map((u) => ({
      unitId: u,
      manager: { id: `${u}0`, prompt: 'p' },
      workers: [1, 2, 3].map((x) => ({ id: `${u}${x}`, prompt: 'p' })),
    })),
  },
});

/** One POST /runs; a loaded machine can make tmux miss its deadline (503/504): two more tries, then none. */
export async function createTeam(port: number): Promise<string | undefined> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const r = await hit(port, 'POST', '/runs', TEAM);
    if (r.status === 201) return (JSON.parse(r.text) as { sessionId: string }).sessionId;
    console.warn(`R15: /runs answered ${r.status}: ${r.text.slice(0, 200)}`);
    if (r.status < 500) break;
    await sleep(2000);
  }
  return undefined;
}

/** The service's own event-loop delay (prom-client's, reset by each scrape): p99 and max, ms. */
export async function loopLag(port: number): Promise<string> {
  const text = (await hit(port, 'GET', '/metrics')).text;
  const get = (k: string) =>
    1000 * Number(new RegExp(`^nodejs_eventloop_lag_${k}_seconds (\\S+)`, 'm').exec(text)?.[1]);
  return `${get('p99').toFixed(1)} / ${get('max').toFixed(1)} ms`;
}
