import { accessSync, constants as C, statSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { SAFE_WORD } from '../workspace/key-value';
import { resolveAgentCommand } from '../runs/session-layout';
import { TmuxGateway } from '../tmux/tmux.gateway';

const PROBE_INTERVAL_MS = 10_000;

/** tmux ≥ 3.2 (master/next-* count as newest), T-07. */
export function versionOk(v: string): boolean {
  const m = v.match(/^tmux (?:next-)?(\d+)\.(\d+)/);
  if (/^tmux (master|next-)/.test(v) && !m) return true;
  return Boolean(m) && (Number(m![1]) > 3 || (Number(m![1]) === 3 && Number(m![2]) >= 2));
}

/** Readiness checks (contract §2.4); at most one tmux probe per 10 s. */
@Injectable()
export class ReadinessIndicators {
  private lastProbe = 0;
  private last: { ok: boolean; version?: string; serverRunning?: boolean } = { ok: false };

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly health: HealthIndicatorService,
    private readonly tmux: TmuxGateway,
  ) {}

  async tmuxCheck() {
    const s = this.health.check('tmux');
    if (Date.now() - this.lastProbe > PROBE_INTERVAL_MS || !this.last.ok) {
      this.lastProbe = Date.now();
      try {
        const version = await this.tmux.version();
        const serverRunning = (await this.tmux.listTree()).sessions.length > 0;
        this.last = { ok: versionOk(version), version, serverRunning };
      } catch {
        this.last = { ok: false };
      }
    }
    const breakerOpen = this.tmux.breaker.opened;
    const info = { version: this.last.version ?? null, serverRunning: this.last.serverRunning ?? false, breaker: breakerOpen ? 'open' : 'closed' };
    return this.last.ok && !breakerOpen ? s.up(info) : s.down(info);
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
