import { Inject, Injectable } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import type { StatusResponse } from './dto/status.dto';
import { statusOf } from '../core/session.mapper';
import { resolveRef, type SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import type { KnownSession } from '../core/snapshot';

/** GET /status, the legacy summary, correct this time (contract §4.11). */
@Injectable()
export class StatusService {
  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
  ) {}

  /** `ref` undefined: the legacy session if live, else the most recently active live one. */
  async status(ref: SessionRef | undefined): Promise<StatusResponse> {
    const snap = await this.sessions.snapshot();
    let k: KnownSession | undefined;
    if (ref) k = resolveRef(snap, ref);
    else {
      const live = snap.sessions.filter((s) => s.tmux);
      k =
        live.find((s) => s.tmuxName === snap.legacyName) ??
        live.sort((a, b) => (b.lastActivity ?? '').localeCompare(a.lastActivity ?? ''))[0];
    }
    const running = k ? k.agents.filter((a) => a.status === 'running').length : 0;
    const total = k?.roster.length ?? 0;
    return {
      status: total > 0 && running === total ? 'running' : running === 0 ? 'stopped' : 'partial',
      session: k?.tmuxName ?? null,
      sessionId: k?.id ?? null,
      sessionStatus: k ? statusOf(k, this.sessions.state) : null,
      agents: k
        ? k.agents.map((a) => ({
            id: a.agentId,
            status: a.status,
            window: a.window,
            pane: a.pane,
            ...this.sessions.activityOf(k)(a),
          }))
        : [],
      httpServer: { running: true, pid: process.pid, port: this.cfg.port },
      timestamp: new Date().toISOString(),
    };
  }
}
