import { accessSync, constants as C, statSync } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { SAFE_WORD } from '../workspace/key-value';
import { resolveAgentCommand } from '../domain/session-layout';

/** Readiness checks of the workspace and the agent command (contract §2.4). */
@Injectable()
export class ReadinessIndicators {
  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly health: HealthIndicatorService,
  ) {}

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
