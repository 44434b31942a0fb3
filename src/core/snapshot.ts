import * as path from 'node:path';
import { rosterSort } from '../domain/agents';
import type { TmuxSession, TmuxTree } from '../tmux/tmux.types';
import { UUID_V4 } from '../workspace/workspace.reader';
import type { Catalogue, SessionRecord } from '../workspace/workspace.types';
import {
  agentView,
  configIds,
  locateAgents,
  windowViews,
  type AgentView,
  type WindowView,
} from './agent-status';
import { runSteps, runStepsYielding, type Steps } from '../common/steps';
import { pickStartedAt, toIso } from './times';

export const MAS_NAME = /^mas-[0-9a-f]{8}$/;

export interface KnownSession {
  id: string;
  shortId: string;
  tmuxName: string;
  source: 'workspace' | 'tmux' | 'legacy';
  workingDir: string;
  unitDir: string;
  workflowsDir: string;
  startedAt: string;
  lastActivity?: string;
  tmux?: TmuxSession;
  record?: SessionRecord;
  roster: string[];
  agents: AgentView[];
  windows: WindowView[];
  warnings: string[];
}

export interface Snapshot {
  sessions: KnownSession[];
  /** The tmux name `<ws>/.mas_session` points at, if any: the default pick of GET /status (§4.11). */
  legacyName?: string;
  /** Every MAS tmux name on the server, whoever holds it: restore must not take another's (A1). */
  tmuxNames: Set<string>;
  takenAt: number;
}

export interface JoinContext {
  workspace: string;
  processNames: Set<string>;
  /** Sessions whose create has not answered yet stay hidden (§4.9 step 3). */
  hidden: Set<string>;
}

/** Joins one tmux listing with the workspace catalogue (contract §5.1, §5.3, §5.6). */
export function joinSnapshot(tree: TmuxTree, cat: Catalogue, ctx: JoinContext): Snapshot {
  return runSteps(joinSteps(tree, cat, ctx));
}

/** {@link joinSnapshot} in slices of 25 sessions, for the background snapshot. */
export function joinSnapshotYielding(
  tree: TmuxTree,
  cat: Catalogue,
  ctx: JoinContext,
): Promise<Snapshot> {
  return runStepsYielding(joinSteps(tree, cat, ctx));
}

function* joinSteps(tree: TmuxTree, cat: Catalogue, ctx: JoinContext): Steps<Snapshot> {
  const byShort = new Map<string, SessionRecord[]>();
  for (const r of cat.records)
    byShort.set(r.id.slice(0, 8), [...(byShort.get(r.id.slice(0, 8)) ?? []), r]);
  const recordIds = new Set(cat.records.map((r) => r.id));
  const live = new Map<string, TmuxSession>();
  const tmuxOnly: { id: string; s: TmuxSession }[] = [];
  let legacyLive: TmuxSession | undefined;
  const tmuxNames = new Set<string>();
  for (const s of tree.sessions) {
    if (!MAS_NAME.test(s.name)) continue; // only MAS tmux sessions are ever looked at
    tmuxNames.add(s.name);
    const short = s.name.slice(4);
    if (s.tagSessionId) {
      if (
        s.tagWorkspace !== ctx.workspace ||
        !UUID_V4.test(s.tagSessionId) ||
        !s.tagSessionId.startsWith(short)
      )
        continue;
      if (recordIds.has(s.tagSessionId)) live.set(s.tagSessionId, s);
      else tmuxOnly.push({ id: s.tagSessionId, s });
    } else {
      const owners = byShort.get(short) ?? [];
      if (owners.length === 1 && !live.has(owners[0].id)) live.set(owners[0].id, s);
      else if (cat.legacy?.tmuxName === s.name && owners.length === 0) legacyLive = s;
    }
  }
  const out: KnownSession[] = [];
  let done = 0;
  for (const r of cat.records) {
    if (++done % 25 === 0) yield;
    if (ctx.hidden.has(r.id)) continue;
    const s = live.get(r.id);
    const roster = s?.tagSessionId
      ? rosterSort([...locateAgents(s, true).keys(), ...configIds(r.config)])
      : s
        ? rosterSort([...locateAgents(s, false).keys(), ...r.unitIds])
        : terminatedRoster(r);
    const startedAt = pickStartedAt(
      [r.session?.CREATED_AT, r.metadata?.startedAt, cat.indexCreatedAt.get(r.id)],
      s?.created,
      r.dirMtimeMs,
    );
    const warnings = [...r.warnings];
    if (r.session?.TMUX_SESSION && r.session.TMUX_SESSION !== `mas-${r.id.slice(0, 8)}`)
      warnings.push('TMUX_NAME_MISMATCH');
    if (cat.indexUnreadable) warnings.push('INDEX_UNREADABLE');
    out.push(
      build(r.id, 'workspace', r.dir, s, roster, startedAt, ctx, {
        record: r,
        warnings,
        stoppedAt: r.metadata?.stoppedAt,
      }),
    );
  }
  for (const { id, s } of tmuxOnly) {
    if (ctx.hidden.has(id)) continue;
    const dir = path.join(ctx.workspace, 'sessions', id);
    out.push(
      build(
        id,
        'tmux',
        dir,
        s,
        rosterSort(locateAgents(s, true).keys()),
        toIso(s.created * 1000)!,
        ctx,
        { warnings: [] },
      ),
    );
  }
  if (legacyLive && cat.legacy && sameDir(cat.legacy.projectDir, ctx.workspace)) {
    const short = legacyLive.name.slice(4);
    const startedAt = pickStartedAt(
      [localTime(cat.legacy.startedAt)],
      legacyLive.created,
      undefined,
    );
    const k = build(
      `${short}-0000-4000-8000-000000000000`,
      'legacy',
      ctx.workspace,
      legacyLive,
      rosterSort(locateAgents(legacyLive, false).keys()),
      startedAt,
      ctx,
      { warnings: [] },
    );
    k.unitDir = inside(cat.legacy.unitDir, ctx.workspace) ?? k.unitDir;
    k.workflowsDir = inside(cat.legacy.workflowsDir, ctx.workspace) ?? k.workflowsDir;
    out.push(k);
  }
  return { sessions: out, legacyName: cat.legacy?.tmuxName, tmuxNames, takenAt: Date.now() };
}

function build(
  id: string,
  source: KnownSession['source'],
  dir: string,
  s: TmuxSession | undefined,
  roster: string[],
  startedAt: string,
  ctx: JoinContext,
  extra: { record?: SessionRecord; warnings: string[]; stoppedAt?: string },
): KnownSession {
  const located = s ? locateAgents(s, Boolean(s.tagSessionId)) : new Map();
  const lastActivity = s
    ? toIso(Math.max(s.activity, ...s.windows.map((w) => w.activity)) * 1000)
    : toIso(extra.stoppedAt);
  return {
    id,
    shortId: id.slice(0, 8),
    tmuxName: `mas-${id.slice(0, 8)}`,
    source,
    workingDir: dir,
    unitDir: path.join(dir, 'unit'),
    workflowsDir: path.join(dir, 'workflows'),
    startedAt,
    lastActivity,
    tmux: s,
    record: extra.record,
    roster,
    agents: roster.map((a) => agentView(a, located.get(a), Boolean(s), ctx.processNames)),
    windows: s ? windowViews(s, located) : [],
    warnings: extra.warnings,
  };
}

function terminatedRoster(r: SessionRecord): string[] {
  const fromConfig = configIds(r.config);
  if (fromConfig.length) return fromConfig;
  const meta = Array.isArray(r.metadata?.agents)
    ? r.metadata!.agents.filter((a) => typeof a === 'string')
    : [];
  return meta.length ? rosterSort(meta) : rosterSort(r.unitIds);
}

const sameDir = (a: string | undefined, ws: string): boolean =>
  a !== undefined && path.resolve(a) === ws;
const inside = (p: string | undefined, ws: string): string | undefined =>
  p && path.resolve(p).startsWith(ws + path.sep) ? path.resolve(p) : undefined;

/**
 * `.mas_session` STARTED_AT is local time `YYYY-MM-DD HH:MM:SS` (§6.7). `Date` rolls out-of-range
 * parts over (month 13 is next January), so the value counts only when every part comes back as
 * written; otherwise it is unparsable and the next candidate is used (§5.6).
 */
function localTime(v: string | undefined): string | undefined {
  const m = v?.match(/^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/);
  if (!m) return undefined;
  const [y, mo, day, h, mi, s] = m.slice(1).map(Number);
  const d = new Date(y, mo - 1, day, h, mi, s);
  const back = [
    d.getFullYear(),
    d.getMonth() + 1,
    d.getDate(),
    d.getHours(),
    d.getMinutes(),
    d.getSeconds(),
  ];
  return back.every((x, i) => x === [y, mo, day, h, mi, s][i]) ? d.toISOString() : undefined;
}
