import { Inject, Injectable } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import type { SessionAgents, SessionDetail } from '../core/dto/session.dto';
import {
  attachCommand,
  isRestorable,
  publicAgent,
  statusOf,
  toSessionDetail,
} from '../core/session.mapper';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import type { Snapshot } from '../core/snapshot';
import { WINDOW_ALIASES } from '../domain/agents';
import { ConflictError, ValidationError } from '../errors/mas-error';
import type { JsonText } from '../common/json-text';
import type { ConnectionInfo } from './dto/lifecycle.dto';
import type { ListSessionsQuery } from './dto/list-sessions.query';
import type { SessionList } from '../core/dto/session.dto';
import type { ConnectRequest } from './dto/session-requests';

/** Bounds the serialised pages kept per snapshot when clients page through many offsets. */
const PAGES_PER_SNAPSHOT = 32;

/** Read use cases: list, detail, agents, connect. */
@Injectable()
export class SessionService {
  private readonly pageMemo = new WeakMap<
    Snapshot,
    Map<string, { json: string; total: number; count: number }>
  >();

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly store: SessionStore,
  ) {}

  /**
   * GET /sessions as JSON text. A page's sessions are serialised once per snapshot and reused by
   * every request until the snapshot changes: at N=200 the 50 KB page was re-serialised per request.
   */
  async list({ status, limit, offset }: ListSessionsQuery): Promise<JsonText<SessionList>> {
    const snap = await this.store.snapshot();
    let pages = this.pageMemo.get(snap);
    if (!pages) this.pageMemo.set(snap, (pages = new Map()));
    const key = `${status}/${offset}/${limit}`;
    let page = pages.get(key);
    if (!page) {
      const all = this.store.infos(snap).filter((s) => status === 'all' || s.status === status);
      const sessions = all.slice(offset, offset + limit);
      page = { json: JSON.stringify(sessions), total: all.length, count: sessions.length };
      if (pages.size < PAGES_PER_SNAPSHOT) pages.set(key, page);
    }
    return `{"sessions":${page.json},"total":${page.total},"count":${page.count},"limit":${limit},"offset":${offset},"timestamp":"${new Date().toISOString()}"}`;
  }

  async detail(ref: SessionRef): Promise<SessionDetail> {
    const k = await this.store.find(ref);
    return toSessionDetail(k, this.store.state, this.store.activityOf(k));
  }

  async agents(ref: SessionRef): Promise<SessionAgents> {
    const k = await this.store.find(ref);
    return {
      sessionId: k.id,
      tmuxSession: k.tmuxName,
      agents: k.agents.map((a) => publicAgent(a, this.store.activityOf(k))),
      timestamp: new Date().toISOString(),
    };
  }

  /** Attach instructions; changes nothing (§4.6). */
  async connect(ref: SessionRef, { window }: ConnectRequest): Promise<ConnectionInfo> {
    const k = await this.store.find(ref);
    const status = statusOf(k, this.store.state);
    if (status === 'restoring')
      throw new ConflictError('RESTORE_IN_PROGRESS', 'Session is being restored', {
        sessionId: k.id,
      });
    if (!k.tmux)
      throw new ConflictError('SESSION_TERMINATED', 'Session is not running', {
        sessionId: k.id,
        restorable: isRestorable(k, status),
      });
    let focused: string | undefined;
    if (window !== undefined) {
      const w = /^[0-9]{1,2}$/.test(window)
        ? k.tmux.windows.find((x) => x.index === Number(window))
        : (k.tmux.windows.find((x) => x.name === window) ??
          k.tmux.windows.find((x) => x.name === WINDOW_ALIASES[window]));
      if (!w)
        throw new ValidationError([
          {
            location: 'body',
            field: 'window',
            rule: 'no_such_window',
            message: 'the session has no such window',
          },
        ]);
      focused = /^[0-9]{1,2}$/.test(window) ? String(w.index) : w.name;
    }
    return {
      sessionId: k.id,
      shortId: k.shortId,
      tmuxSession: k.tmuxName,
      status: 'connected' as const,
      attachCommand: attachCommand(k.tmuxName, this.cfg, focused),
      workingDir: k.workingDir,
      unitDir: k.unitDir,
      workflowsDir: k.workflowsDir,
      startedAt: k.startedAt,
      timestamp: new Date().toISOString(),
      connectionDetails: {
        windows: k.tmux.windows.length,
        activeAgents: k.agents.filter((a) => a.status === 'running').length,
        attachedClients: k.tmux.attached,
        ...(focused !== undefined ? { focusedWindow: focused } : {}),
      },
    };
  }
}
