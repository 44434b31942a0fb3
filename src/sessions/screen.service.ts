import { Injectable } from '@nestjs/common';
import { agentView, type AgentView } from '../core/agent-status';
import { isRestorable, statusOf } from '../core/session.mapper';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import type { KnownSession } from '../core/snapshot';
import { ConflictError, NotFoundError, TmuxGoneError } from '../errors/mas-error';
import type { PaneScreen } from '../tmux/pane-screen';
import { TmuxGateway } from '../tmux/tmux.gateway';
import type { AgentScreen, ScreenQuery } from './dto/screen.dto';

const agentNotFound = (agentId: string, reason: 'not_in_roster' | 'pane_missing') =>
  new NotFoundError('AGENT_NOT_FOUND', 'Agent not found', { agentId, reason });

/**
 * A line holding only whitespace and, with `ansi`, colour/attribute escapes (SGR): tmux ends a
 * capture with the screen's empty rows, and `-e` may put a reset on an otherwise empty one.
 */
const BLANK = /^(?:\s|\x1b\[[0-9;:]*m)*$/;

/** History and visible rows as one list, trailing blank lines dropped (§10.1). */
export function screenLines(s: PaneScreen): { lines: string[]; history: number } {
  const lines = [...s.history, ...s.visible];
  let end = lines.length;
  while (end > 0 && BLANK.test(lines[end - 1])) end--;
  lines.length = end;
  // an empty visible screen can trim blank history lines too: `history` counts what is returned
  return { lines, history: Math.min(s.history.length, end) };
}

/** §5.4's reasons for a pane already known dead (or never the agent, A3). */
const SETTLED = new Set(['exited', 'exit_unknown', 'exit_status', 'killed', 'unsafe_dir']);

/**
 * §5.4 for the captured pane: the snapshot's answer (at most the cache TTL old, §10.6), unless the
 * capture saw a death the snapshot had not, so the body never shows a dead screen as `running`.
 * The dead rows of §5.4 do not depend on the process names, hence the empty set.
 */
export function statusNow(k: KnownSession, agent: AgentView, s: PaneScreen): AgentView['status'] {
  if (!s.dead || SETTLED.has(agent.reason)) return agent.status;
  for (const window of k.tmux?.windows ?? [])
    for (const pane of window.panes)
      if (pane.id === agent.paneId) {
        const now = { ...pane, dead: true, deadStatus: s.deadStatus, deadSignal: s.deadSignal };
        return agentView(agent.agentId, { pane: now, window }, true, new Set()).status;
      }
  return agent.status;
}

/** GET …/agents/:agentId/screen (§10.1): one pane's screen, read by its tmux pane id only. */
@Injectable()
export class ScreenService {
  constructor(
    private readonly store: SessionStore,
    private readonly tmux: TmuxGateway,
  ) {}

  async screen(ref: SessionRef, agentId: string, q: ScreenQuery): Promise<AgentScreen> {
    const k = await this.store.find(ref);
    if (!k.tmux)
      throw new ConflictError('SESSION_TERMINATED', 'Session is not running', {
        sessionId: k.id,
        restorable: isRestorable(k, statusOf(k, this.store.state)),
      });
    // agentId is only compared with the roster; tmux gets the snapshot's pane id (R7, §7.2)
    const agent = k.agents.find((a) => a.agentId === agentId);
    if (!agent) throw agentNotFound(agentId, 'not_in_roster');
    if (!agent.paneId) throw agentNotFound(agentId, 'pane_missing');
    const ansi = q.ansi === 'true';
    let screen: PaneScreen;
    try {
      screen = await this.tmux.paneScreen(agent.paneId, q.lines, ansi);
    } catch (e) {
      // the pane (or the whole server) went away after the snapshot named it (R14: never a 500)
      if (e instanceof TmuxGoneError) throw agentNotFound(agentId, 'pane_missing');
      throw e;
    }
    const { lines, history } = screenLines(screen);
    return {
      sessionId: k.id,
      agentId,
      paneId: agent.paneId,
      status: statusNow(k, agent, screen),
      // §10.4 from the transcript capture; a pane this capture found dead is not observed
      activity: screen.dead ? 'unknown' : this.store.activityOf(k)(agent).activity,
      width: screen.width,
      height: screen.height,
      cursor: screen.cursor,
      history,
      lines,
      ansi,
      capturedAt: new Date().toISOString(),
    };
  }
}
