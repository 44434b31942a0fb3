import {
  agentForPane,
  agentName,
  roleOf,
  rosterSort,
  SHELLS,
  unitOf,
  type Role,
} from '../domain/agents';
import type { TmuxPane, TmuxSession, TmuxWindow } from '../tmux/tmux.types';

export interface AgentView {
  agentId: string;
  name: string;
  role: Role;
  unitId: number;
  status: 'running' | 'stopped' | 'error';
  reason: string;
  window: string | null;
  windowIndex: number | null;
  pane: number | null;
  currentCommand: string | null;
  exitStatus: number | null;
  /** tmux pane id, for delivery; never sent to clients. */
  paneId?: string;
  inMode?: boolean;
}

export interface Located {
  pane: TmuxPane;
  window: TmuxWindow;
}

/** Where each agent sits in a live session (contract §5.3): by tag when tagged, else by layout. */
export function locateAgents(s: TmuxSession, tagged: boolean): Map<string, Located> {
  const found = new Map<string, Located>();
  for (const window of s.windows) {
    for (const pane of window.panes) {
      const id = tagged ? pane.agentId : agentForPane(window.name, pane.index);
      if (id && !found.has(id)) found.set(id, { pane, window });
    }
  }
  return found;
}

/** Ids of a RunsRequest `agents` object (config.json), ignoring anything malformed. */
export function configIds(config: Record<string, unknown> | undefined): string[] {
  if (!config) return [];
  const ids: string[] = [];
  const mm = config.metaManager as { id?: unknown } | undefined;
  if (mm && typeof mm.id === 'string') ids.push(mm.id);
  const units = Array.isArray(config.units) ? config.units : [];
  for (const u of units as { manager?: { id?: unknown }; workers?: { id?: unknown }[] }[]) {
    if (u?.manager && typeof u.manager.id === 'string') ids.push(u.manager.id);
    for (const w of Array.isArray(u?.workers) ? u.workers : [])
      if (w && typeof w.id === 'string') ids.push(w.id);
  }
  return rosterSort(ids);
}

/**
 * The status table of contract §5.4; first matching row wins. Built without object spreads: it runs
 * for every agent of every snapshot (2,600 at N=200), and spreads showed in the cold-list profile.
 */
export function agentView(
  agentId: string,
  loc: Located | undefined,
  live: boolean,
  processNames: Set<string>,
): AgentView {
  if (!live || !loc)
    return view(agentId, undefined, 'stopped', live ? 'pane_missing' : 'session_terminated', null);
  const pane = loc.pane;
  if (pane.unsafe) return view(agentId, loc, 'error', 'unsafe_dir', null); // A3: an idle shell, never the agent
  if (pane.dead) {
    if (pane.deadSignal !== null) return view(agentId, loc, 'error', 'killed', null);
    if (pane.deadStatus === null) return view(agentId, loc, 'stopped', 'exit_unknown', null);
    if (pane.deadStatus === 0) return view(agentId, loc, 'stopped', 'exited', 0);
    return view(agentId, loc, 'error', 'exit_status', pane.deadStatus);
  }
  const cmd = pane.currentCommand.replace(/^-/, '');
  if (processNames.has(cmd) || (pane.launched && cmd !== '' && !SHELLS.has(cmd)))
    return view(agentId, loc, 'running', 'agent_process', null);
  return view(agentId, loc, 'stopped', 'no_agent_process', null);
}

function view(
  agentId: string,
  loc: Located | undefined,
  status: AgentView['status'],
  reason: string,
  exitStatus: number | null,
): AgentView {
  return {
    agentId,
    name: agentName(agentId),
    role: roleOf(agentId),
    unitId: unitOf(agentId),
    status,
    reason,
    window: loc ? loc.window.name : null,
    windowIndex: loc ? loc.window.index : null,
    pane: loc ? loc.pane.index : null,
    currentCommand: loc ? loc.pane.currentCommand || null : null,
    exitStatus,
    ...(loc ? { paneId: loc.pane.id, inMode: loc.pane.inMode } : {}),
  };
}

export interface WindowView {
  index: number;
  name: string;
  paneCount: number;
  active: boolean;
  agents: string[];
  lastActivity: string;
}

export function windowViews(s: TmuxSession, located: Map<string, Located>): WindowView[] {
  return s.windows.map((w) => ({
    index: w.index,
    name: w.name,
    paneCount: w.paneCount,
    active: w.active,
    agents: rosterSort([...located].filter(([, l]) => l.window.id === w.id).map(([id]) => id)),
    lastActivity: new Date(w.activity * 1000).toISOString(),
  }));
}
