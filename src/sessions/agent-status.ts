import { agentForPane, agentName, creationWindowName, roleOf, rosterSort, SHELLS, unitOf, type Role } from '../common/agents';
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
    for (const w of Array.isArray(u?.workers) ? u.workers : []) if (w && typeof w.id === 'string') ids.push(w.id);
  }
  return rosterSort(ids);
}

/** The status table of contract §5.4; first matching row wins. */
export function agentView(agentId: string, loc: Located | undefined, live: boolean, processNames: Set<string>): AgentView {
  const base = { agentId, name: agentName(agentId), role: roleOf(agentId), unitId: unitOf(agentId) };
  if (!live || !loc) {
    return { ...base, status: 'stopped', reason: live ? 'pane_missing' : 'session_terminated', window: null, windowIndex: null, pane: null, currentCommand: null, exitStatus: null };
  }
  const { pane, window } = loc;
  const at = { window: window.name, windowIndex: window.index, pane: pane.index, currentCommand: pane.currentCommand || null, paneId: pane.id, inMode: pane.inMode };
  if (pane.dead) {
    if (pane.deadSignal !== null) return { ...base, ...at, status: 'error', reason: 'killed', exitStatus: null };
    if (pane.deadStatus === null) return { ...base, ...at, status: 'stopped', reason: 'exit_unknown', exitStatus: null };
    if (pane.deadStatus === 0) return { ...base, ...at, status: 'stopped', reason: 'exited', exitStatus: 0 };
    return { ...base, ...at, status: 'error', reason: 'exit_status', exitStatus: pane.deadStatus };
  }
  const cmd = pane.currentCommand.replace(/^-/, '');
  if (processNames.has(cmd) || (pane.launched && cmd !== '' && !SHELLS.has(cmd))) {
    return { ...base, ...at, status: 'running', reason: 'agent_process', exitStatus: null };
  }
  return { ...base, ...at, status: 'stopped', reason: 'no_agent_process', exitStatus: null };
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

export { creationWindowName };
