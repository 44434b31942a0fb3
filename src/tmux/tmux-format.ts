import { randomBytes } from 'node:crypto';
import { runSteps, runStepsYielding, type Steps } from '../common/steps';
import type { TmuxPane, TmuxSession, TmuxTree, TmuxWindow } from './tmux.types';

/** Record start and field separator: printable, improbable, outside every name allowlist (T-11). */
export const RS = '\u241e';
export const FS = '\u241f';

/**
 * The one field list: it drives both the `-F` template and the parser, so they cannot drift.
 * No paths are listed (T-11: raw paths can split records).
 */
export const TREE_FIELDS = [
  'pid',
  'session_id',
  'session_name',
  'session_created',
  'session_attached',
  'session_attached_list',
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
  '@mas_agent_unsafe',
  // 1 while a pipe-pane runs: the transcript's byte source (§10.2, decision 0008)
  'pane_pipe',
] as const;

/**
 * Every record starts with RS and a nonce drawn per call ({@link newNonce}): window names and user
 * options are printed raw, so a value holding LF + RS (in any session on the server, ours or not)
 * could otherwise start a well-formed record of its own and claim another session's id (T-11).
 */
export const treeTemplate = (nonce: string): string =>
  RS + nonce + TREE_FIELDS.map((f) => `#{${f}}`).join(FS);
export const newNonce = (): string => randomBytes(6).toString('hex');
/** Only MAS-named sessions are listed (§1.2): others' names and windows never reach the parser. */
export const MAS_FILTER = `#{m:mas-${'[0-9a-f]'.repeat(8)},#{session_name}}`;
/** Field positions, from the same list: the parser indexes records instead of building objects. */
const AT = Object.fromEntries(TREE_FIELDS.map((f, i) => [f, i])) as Record<
  (typeof TREE_FIELDS)[number],
  number
>;

export interface ParseResult {
  tree: TmuxTree;
  /** Records dropped for a wrong field count (logged by the caller). */
  dropped: number;
}

/**
 * Splits templated output into records of `count` fields (T-11): a record starts with RS, a line
 * without it continues the previous record (a raw LF in a name), and a record with the wrong field
 * count, or text before any record, is dropped and counted.
 */
export function splitRecords(
  stdout: string,
  count: number,
  nonce: string,
): { records: string[][]; dropped: number } {
  return runSteps(splitRecordsSteps(stdout, count, nonce));
}

/** {@link splitRecords} with a slice boundary every 1,000 records: at 3,000 panes it is a 4-5 ms block. */
function* splitRecordsSteps(
  stdout: string,
  count: number,
  nonce: string,
): Steps<{ records: string[][]; dropped: number }> {
  const raw: string[] = [];
  const start = RS + nonce;
  let dropped = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(start)) raw.push(line.slice(start.length));
    else if (raw.length) raw[raw.length - 1] += '\n' + line;
    else if (line !== '') dropped++; // text before any record: not tmux's answer to our template
  }
  // The final LF of the output appended an empty continuation to the last record.
  if (raw.length && stdout.endsWith('\n')) raw[raw.length - 1] = raw[raw.length - 1].slice(0, -1);
  yield;
  const records: string[][] = [];
  for (let i = 0; i < raw.length; i++) {
    if (i > 0 && i % 1000 === 0) yield;
    const f = raw[i].split(FS);
    if (f.length === count) records.push(f);
    else dropped++;
  }
  return { records, dropped };
}

/** The fields of `list-sessions`: ids, names and the tags a create must check (§4.9 step 2, §4.12). */
export const SESSION_FIELDS = [
  'session_id',
  'session_name',
  '@mas_session_id',
  '@mas_request_id',
] as const;
export const sessionTemplate = (nonce: string): string =>
  RS + nonce + SESSION_FIELDS.map((f) => `#{${f}}`).join(FS);

export interface SessionName {
  id: string;
  name: string;
  tagSessionId: string;
  tagRequestId: string;
}

export function parseSessionNames(stdout: string, nonce: string): SessionName[] {
  return splitRecords(stdout, SESSION_FIELDS.length, nonce).records.map(
    ([id, name, tagSessionId, tagRequestId]) => ({ id, name, tagSessionId, tagRequestId }),
  );
}

/** Parses `list-panes -a -F TREE_TEMPLATE` output into sessions → windows → panes (T-10, T-11). */
export function parseTree(stdout: string, nonce: string): ParseResult {
  return runSteps(parseTreeSteps(stdout, nonce));
}

/** {@link parseTree} in slices of 500 records, for the background snapshot. */
export function parseTreeYielding(stdout: string, nonce: string): Promise<ParseResult> {
  return runStepsYielding(parseTreeSteps(stdout, nonce));
}

function* parseTreeSteps(stdout: string, nonce: string): Steps<ParseResult> {
  const { records, dropped } = yield* splitRecordsSteps(stdout, TREE_FIELDS.length, nonce);
  yield;
  const sessions = new Map<string, TmuxSession>();
  const windows = new Map<string, TmuxWindow>();
  for (let i = 0; i < records.length; i++) {
    if (i > 0 && i % 500 === 0) yield;
    const f = records[i];
    let s = sessions.get(f[AT.session_id]);
    if (!s) {
      s = {
        id: f[AT.session_id],
        serverPid: num(f[AT.pid]),
        name: f[AT.session_name],
        created: num(f[AT.session_created]),
        attached: num(f[AT.session_attached]),
        clients: f[AT.session_attached_list],
        activity: num(f[AT.session_activity]),
        tagSessionId: f[AT['@mas_session_id']],
        tagWorkspace: f[AT['@mas_workspace']],
        tagRequestId: f[AT['@mas_request_id']],
        windows: [],
      };
      sessions.set(f[AT.session_id], s);
    }
    const wkey = `${f[AT.session_id]}/${f[AT.window_id]}`;
    let w = windows.get(wkey);
    if (!w) {
      w = {
        id: f[AT.window_id],
        index: num(f[AT.window_index]),
        name: f[AT.window_name],
        active: f[AT.window_active] === '1',
        paneCount: num(f[AT.window_panes]),
        activity: num(f[AT.window_activity]),
        panes: [],
      };
      windows.set(wkey, w);
      s.windows.push(w);
    }
    const p: TmuxPane = {
      id: f[AT.pane_id],
      index: num(f[AT.pane_index]),
      dead: f[AT.pane_dead] === '1',
      deadStatus: f[AT.pane_dead_status] === '' ? null : num(f[AT.pane_dead_status]),
      deadSignal: f[AT.pane_dead_signal] === '' ? null : num(f[AT.pane_dead_signal]),
      inMode: f[AT.pane_in_mode] === '1',
      currentCommand: f[AT.pane_current_command],
      agentId: f[AT['@mas_agent_id']],
      launched: f[AT['@mas_agent_launched']] === '1',
      unsafe: f[AT['@mas_agent_unsafe']] === '1',
      pipe: f[AT.pane_pipe] === '1',
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
