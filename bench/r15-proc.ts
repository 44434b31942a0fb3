import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK']).toString().trim() || 100);

interface Stat {
  ppid: number;
  /** utime + stime, ms */
  self: number;
  /** cutime + cstime (children already reaped), ms */
  reaped: number;
}

function stat(pid: number): Stat | undefined {
  try {
    // fields after the command name, which may itself hold spaces: state ppid … utime(11) stime(12) cutime(13) cstime(14)
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()!.split(' ');
    return {
      ppid: Number(f[1]),
      self: (Number(f[11]) + Number(f[12])) * TICK_MS,
      reaped: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return undefined; // exited meanwhile
  }
}

/** CPU time, ms, of one process and of its live children at one instant. */
export interface CpuSample {
  at: number;
  self: number;
  reaped: number;
  children: Map<number, number>;
}

export function sample(pid: number): CpuSample {
  const at = performance.now();
  const s = stat(pid);
  const children = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const c = stat(Number(d));
    if (c?.ppid === pid) children.set(Number(d), c.self);
  }
  return { at, self: s?.self ?? 0, reaped: s?.reaped ?? 0, children };
}

/** CPU share over a window, % of one core: the process alone, and with its children (live and reaped). */
export interface CpuShare {
  self: number;
  withChildren: number;
}

export function share(a: CpuSample, b: CpuSample): CpuShare {
  const wall = b.at - a.at;
  let kids = b.reaped - a.reaped;
  for (const [pid, ms] of b.children) kids += ms - (a.children.get(pid) ?? 0);
  const self = b.self - a.self;
  return { self: (100 * self) / wall, withChildren: (100 * (self + kids)) / wall };
}

/** Resident set, MB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** The 1-minute load average, as `uptime` prints it. */
export const loadAvg = (): string =>
  readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Busy and total CPU time of the whole machine so far (all cores, clock ticks), from /proc/stat. */
export function machine(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total }; // idle and iowait
}
