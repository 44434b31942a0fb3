import { accessSync, constants as C, lstatSync, statSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { SAFE_WORD } from '../workspace/key-value';
import { resolveAgentCommand } from '../domain/session-layout';
import { TmuxGateway } from '../tmux/tmux.gateway';

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

/** Readiness checks (contract §2.4). */
@Injectable()
export class ReadinessIndicators {
  /** The last probe, shared by every check begun within its 10 s, failed or not (A9). */
  private probe?: { at: number; result: Promise<TmuxProbe> };

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly health: HealthIndicatorService,
    private readonly tmux: TmuxGateway,
  ) {}

  async tmuxCheck() {
    const s = this.health.check('tmux');
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

  workspaceCheck() {
    const s = this.health.check('workspace');
    try {
      if (!statSync(this.cfg.workspaceRoot).isDirectory()) throw new Error('not a directory');
      accessSync(this.cfg.workspaceRoot, C.W_OK);
      if (!SAFE_WORD.test(this.cfg.workspaceRoot)) return s.down({ reason: 'unsafe_path' });
      return s.up({ root: this.cfg.workspaceRoot });
    } catch {
      return s.down({ reason: 'not_writable' });
    }
  }

  agentCommandCheck() {
    const s = this.health.check('agentCommand');
    try {
      return s.up({ path: resolveAgentCommand(this.cfg) });
    } catch {
      return s.down({ reason: 'not_found', command: this.cfg.agentCommand[0] });
    }
  }
}
