import type { SessionStatus } from '../domain/vocabulary';
import type { MasConfig } from '../config/mas-config';
import { attachArgs } from '../tmux/tmux-args';
import type { AgentView } from './agent-status';
import type { AgentStatus, SessionDetail, SessionInfo } from './dto/session.dto';
import type { KnownSession } from './snapshot';
import type { SessionState } from './session-state';

export type { SessionStatus };

/** First match wins (contract §5.2). */
export function statusOf(k: KnownSession, state: SessionState): SessionStatus {
  if (state.restoring.has(k.id)) return 'restoring';
  if (!k.tmux) return 'terminated';
  return k.tmux.attached >= 1 ? 'active' : 'inactive';
}

export function isRestorable(k: KnownSession, status: SessionStatus): boolean {
  return status === 'terminated' && k.source === 'workspace' && k.record?.session != null;
}

/** §10.4's activity of one agent of a session (from the transcript capture). */
export type ActivityOf = (a: AgentView) => Pick<AgentStatus, 'activity' | 'lastOutputAt'>;

/** Public agent fields only: the pane id and copy-mode flag stay inside the service. */
export function publicAgent(a: AgentView, activityOf: ActivityOf): AgentStatus {
  const { paneId: _p, inMode: _m, ...rest } = a;
  return { ...rest, ...activityOf(a) };
}

/** SessionInfo (contract §4.3). */
export function toSessionInfo(k: KnownSession, state: SessionState): SessionInfo {
  const status = statusOf(k, state);
  return {
    sessionId: k.id,
    shortId: k.shortId,
    tmuxSession: k.tmuxName,
    status,
    source: k.source,
    workingDir: k.workingDir,
    startedAt: k.startedAt,
    ...(k.lastActivity ? { lastActivity: k.lastActivity } : {}),
    agentCount: k.agents.filter((a) => a.status === 'running').length,
    agentsTotal: k.roster.length,
    attachedClients: k.tmux?.attached ?? 0,
    httpServerStatus: k.tmux ? ('running' as const) : ('stopped' as const),
    restorable: isRestorable(k, status),
  };
}

/** SessionDetail = SessionInfo + dirs, agents, windows, config, startup, warnings (§4.3). */
export function toSessionDetail(
  k: KnownSession,
  state: SessionState,
  activityOf: ActivityOf,
): SessionDetail {
  const startup = state.startups.get(k.id);
  return {
    ...toSessionInfo(k, state),
    unitDir: k.unitDir,
    workflowsDir: k.workflowsDir,
    agents: k.agents.map((a) => publicAgent(a, activityOf)),
    windows: k.windows,
    ...(k.record?.config ? { config: k.record.config } : {}),
    ...(startup
      ? {
          startup: {
            state: startup.state,
            startedAt: startup.startedAt,
            ...(startup.finishedAt ? { finishedAt: startup.finishedAt } : {}),
            prompts: startup.prompts,
          },
        }
      : {}),
    ...(k.warnings.length ? { warnings: [...new Set(k.warnings)] } : {}),
  };
}

/** Only the socket path can hold characters a shell would read (§4.6): it alone is quoted. */
const shellWord = (s: string): string =>
  /^[A-Za-z0-9._/@%+,:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;

/** `tmux [-S socket] attach-session -t mas-<short>[:window]` (§4.6). */
export function attachCommand(
  tmuxName: string,
  cfg: Pick<MasConfig, 'tmuxSocket' | 'tmuxSocketExplicit'>,
  window?: string,
): string {
  // the default socket needs no -S: plain `tmux attach` finds it (§4.6)
  const socket = cfg.tmuxSocketExplicit ? cfg.tmuxSocket : undefined;
  const target = window !== undefined ? `${tmuxName}:${window}` : tmuxName;
  return ['tmux', ...(socket ? ['-S', shellWord(socket)] : []), ...attachArgs(target)].join(' ');
}
