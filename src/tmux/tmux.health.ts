import { lstatSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { TmuxGateway } from './tmux.gateway';

const PROBE_INTERVAL_MS = 10_000;

/** tmux ≥ 3.2 (master/next-* count as newest), T-07. */
export function versionOk(v: string): boolean {
  const m = v.match(/^tmux (?:next-)?(\d+)\.(\d+)/);
  if (/^tmux (master|next-)/.test(v) && !m) return true;
  return Boolean(m) && (Number(m![1]) > 3 || (Number(m![1]) === 3 && Number(m![2]) >= 2));
}

interface TmuxProbe {
  ok: boolean;
  version?: string;
}

/** The tmux readiness check (contract §2.4), owned by the layer that knows the breaker. */
@Injectable()
export class TmuxHealthIndicator {
  /** The last probe, shared by every check begun within its 10 s, failed or not (A9). */
  private probe?: { at: number; result: Promise<TmuxProbe> };

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly health: HealthIndicatorService,
    private readonly tmux: TmuxGateway,
  ) {}

  async isHealthy(key = 'tmux') {
    const s = this.health.check(key);
    const last = await this.probeTmux();
    const breakerOpen = this.tmux.breaker.opened;
    const info = {
      version: last.version ?? null,
      serverRunning: this.serverSocketPresent(),
      breaker: breakerOpen ? 'open' : 'closed',
    };
    return last.ok && !breakerOpen ? s.up(info) : s.down(info);
  }

  /**
   * One `tmux -V` per 10 s at most, whatever its outcome (A9): a probe that re-ran on every failure
   * spawned a client per request (8 at once) while tmux was already struggling.
   */
  private probeTmux(): Promise<TmuxProbe> {
    if (this.probe && Date.now() - this.probe.at < PROBE_INTERVAL_MS) return this.probe.result;
    const result = this.tmux.version().then(
      (version) => ({ ok: versionOk(version), version }),
      () => ({ ok: false }),
    );
    this.probe = { at: Date.now(), result };
    return result;
  }

  /** Whether a server socket exists: informational, and it costs no tmux call (A9's budget is -V). */
  private serverSocketPresent(): boolean {
    try {
      return lstatSync(this.cfg.tmuxSocket).isSocket();
    } catch {
      return false;
    }
  }
}
