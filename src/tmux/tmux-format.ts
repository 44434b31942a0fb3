import type { TmuxPane, TmuxSession, TmuxTree, TmuxWindow } from './tmux.types';

/** Record start and field separator: printable, improbable, outside every name allowlist (T-11). */
export const RS = '\u241e';
export const FS = '\u241f';

/**
 * The one field list: it drives both the `-F` template and the parser, so they cannot drift.
 * No paths are listed (T-11: raw paths can split records).
 */
export const TREE_FIELDS = [
  'session_id',
  'session_name',
  'session_created',
  'session_attached',
  'session_activity',
  '@mas_session_id',
  '@mas_workspace',
  '@mas_request_id',
  'window_id',
  'window_index',
  'window_name',
  'window_active',
  'window_panes',
  'window_activity',
  'pane_id',
  'pane_index',
  'pane_dead',
  'pane_dead_status',
  'pane_dead_signal',
  'pane_in_mode',
  'pane_current_command',
  '@mas_agent_id',
  '@mas_agent_launched',
] as const;

export const TREE_TEMPLATE = RS + TREE_FIELDS.map((f) => `#{${f}}`).join(FS);

export interface ParseResult {
  tree: TmuxTree;
  /** Records dropped for a wrong field count (logged by the caller). */
  dropped: number;
}

/** Parses `list-panes -a -F TREE_TEMPLATE` output into sessions → windows → panes (T-10, T-11). */
export function parseTree(stdout: string): ParseResult {
  const records: string[] = [];
  let stray = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(RS)) records.push(line.slice(1));
    else if (records.length) records[records.length - 1] += '\n' + line;
    else if (line !== '') stray++; // text before any record: not tmux's answer to our template
  }
  // The final LF of the output appended an empty continuation to the last record.
  if (records.length && stdout.endsWith('\n')) records[records.length - 1] = records[records.length - 1].slice(0, -1);
  const sessions = new Map<string, TmuxSession>();
  const windows = new Map<string, TmuxWindow>();
  let dropped = stray;
  for (const rec of records) {
    const f = rec.split(FS);
    if (f.length !== TREE_FIELDS.length) {
      dropped++;
      continue;
    }
    const v = Object.fromEntries(TREE_FIELDS.map((k, i) => [k, f[i]])) as Record<(typeof TREE_FIELDS)[number], string>;
    let s = sessions.get(v.session_id);
    if (!s) {
      s = {
        id: v.session_id,
        name: v.session_name,
        created: num(v.session_created),
        attached: num(v.session_attached),
        activity: num(v.session_activity),
        tagSessionId: v['@mas_session_id'],
        tagWorkspace: v['@mas_workspace'],
        tagRequestId: v['@mas_request_id'],
        windows: [],
      };
      sessions.set(v.session_id, s);
    }
    const wkey = `${v.session_id}/${v.window_id}`;
    let w = windows.get(wkey);
    if (!w) {
      w = {
        id: v.window_id,
        index: num(v.window_index),
        name: v.window_name,
        active: v.window_active === '1',
        paneCount: num(v.window_panes),
        activity: num(v.window_activity),
        panes: [],
      };
      windows.set(wkey, w);
      s.windows.push(w);
    }
    const p: TmuxPane = {
      id: v.pane_id,
      index: num(v.pane_index),
      dead: v.pane_dead === '1',
      deadStatus: v.pane_dead_status === '' ? null : num(v.pane_dead_status),
      deadSignal: v.pane_dead_signal === '' ? null : num(v.pane_dead_signal),
      inMode: v.pane_in_mode === '1',
      currentCommand: v.pane_current_command,
      agentId: v['@mas_agent_id'],
      launched: v['@mas_agent_launched'] === '1',
    };
    w.panes.push(p);
  }
  for (const s of sessions.values()) {
    s.windows.sort((a, b) => a.index - b.index);
    for (const w of s.windows) w.panes.sort((a, b) => a.index - b.index);
  }
  return { tree: { sessions: [...sessions.values()] }, dropped };
}

function num(s: string): number {
  const n = Number(s);
  return Number.isFinite(n) && s !== '' ? n : 0;
}
