import type { PanePlan, SessionPlan, WindowPlan } from './tmux.types';

/** Largest argv (bytes incl. NULs) one tmux client accepts, with headroom (T-40). */
export const MAX_COMMAND_BYTES = 16_000;

/**
 * A trailing `;` would end the tmux command and start another (T-31); `\;` makes tmux keep it literally.
 * Applied to every element we pass, ids and paths included.
 */
export function escapeArg(arg: string): string {
  return arg.endsWith(';') ? `${arg.slice(0, -1)}\\;` : arg;
}

/** Joins tmux commands into one invocation, escaping every element and separating with a bare `;`. */
export function chain(commands: string[][]): string[] {
  const out: string[] = [];
  commands.forEach((cmd, i) => {
    if (i > 0) out.push(';');
    out.push(...cmd.map(escapeArg));
  });
  return out;
}

export function argvBytes(args: string[]): number {
  return args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
}

/**
 * Packs command groups into as few invocations as fit the client's command limit (T-40): every tmux
 * call costs a fork and more as the server grows, and a 13-agent layout fits in two or three.
 */
export function packCommands(groups: string[][][]): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] = [];
  for (const g of groups) {
    if (cur.length && argvBytes(chain([...cur, ...g])) > MAX_COMMAND_BYTES) {
      out.push(cur);
      cur = [];
    }
    cur = [...cur, ...g];
  }
  if (cur.length) out.push(cur);
  return out;
}

/**
 * What `new-session -P` prints: the `$N` id of the session this very invocation created, the only
 * thing a rollback may kill (A1).
 */
export const CREATED_PREFIX = 'mas-created:';
const CREATED_FORMAT = `${CREATED_PREFIX}#{session_id}`;

/** The created `$N` in an invocation's output, and the output without that line. */
export function takeCreatedId(stdout: string): { id?: string; rest: string } {
  const m = /^mas-created:(\$\d+)$/m.exec(stdout);
  return m ? { id: m[1], rest: stdout.replace(`${m[0]}\n`, '') } : { rest: stdout };
}

/**
 * Later invocations of a create address the session by its `$N` id, not its name: if it is killed
 * meanwhile and someone else creates one with the same name, no window may land in theirs (A1).
 */
export function retarget(commands: string[][], name: string, id: string): string[][] {
  const exact = exactSession(name);
  return commands.map((cmd) =>
    cmd.map((a) => (a === exact ? id : a.startsWith(`${exact}:`) ? id + a.slice(exact.length) : a)),
  );
}

/** Keys the service may send with send-keys, one per call (T-33); never client text. Config checks stop keys against it. */
export const KEY_ALLOWLIST: ReadonlySet<string> = new Set(['C-c', 'C-d', 'Escape', 'Enter', 'q']);

/** The one attach argv: our control client runs it (T-71), users get it as a command line (§4.6). */
export const attachArgs = (target: string): string[] => ['attach-session', '-t', target];

/** Exact session target for a name we created (T-21): `=name` for session commands. */
export const exactSession = (name: string): string => `=${name}`;
/** Exact window or pane target: `=name:W` / `=name:W.P` (T-21). */
export const exactWindow = (name: string, w: number): string => `=${name}:${w}`;
export const exactPane = (name: string, w: number, p: number): string => `=${name}:${w}.${p}`;

const envArgs = (env: Record<string, string>): string[] =>
  Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
const cmdArgs = (pane: PanePlan): string[] => (pane.command ? ['--', ...pane.command] : []);

/**
 * The agent's transcript pipe (§10.2, decision 0008): `pipe-pane -O` right after the pane appears,
 * in the same command list, so tmux runs it before it first reads the new pty and no byte escapes.
 * The command string is the service's own fixed `exec <tee> <path>` (R7's one exception).
 */
export type PipeCommands = ReadonlyMap<string, string>;

function tagPane(target: string, pane: PanePlan, pipes?: PipeCommands): string[][] {
  if (!pane.agentId) return [];
  const pipe = pipes?.get(pane.agentId);
  return [
    ...(pipe ? [['pipe-pane', '-O', '-t', target, pipe]] : []),
    ['set-option', '-p', '-t', target, '@mas_agent_id', pane.agentId],
    ['set-option', '-p', '-t', target, '@mas_agent_launched', pane.launched ? '1' : '0'],
    ...(pane.unsafe ? [['set-option', '-p', '-t', target, '@mas_agent_unsafe', '1']] : []),
  ];
}

/**
 * The first invocation: the session with window 0, its options and tags. `base-index` is forced to 0
 * and the windows renumbered, whatever the user's configuration says (T-05, contract §7.3).
 */
export function createSessionCommands(plan: SessionPlan): string[][] {
  const w0 = plan.windows[0];
  const p0 = w0.panes[0];
  const s = `${exactSession(plan.name)}:`; // set-option needs the trailing colon (T-21)
  return [
    [
      'new-session',
      '-d',
      '-P',
      '-F',
      CREATED_FORMAT,
      '-s',
      plan.name,
      '-n',
      w0.name,
      '-x',
      String(plan.cols),
      '-y',
      String(plan.rows),
      '-c',
      p0.cwd,
      ...envArgs(plan.sessionEnv),
      ...envArgs(p0.env),
      ...cmdArgs(p0),
    ],
    ['set-option', '-t', s, 'base-index', '0'],
    ['set-option', '-t', s, 'default-size', `${plan.cols}x${plan.rows}`],
    ['move-window', '-r', '-t', s],
    ...Object.entries(plan.tags).map(([k, v]) => ['set-option', '-t', s, k, v]),
    ...windowOptions(plan.name, w0),
  ];
}

function windowOptions(name: string, w: WindowPlan): string[][] {
  const t = exactWindow(name, w.index);
  return [
    ['set-option', '-w', '-t', t, 'pane-base-index', '0'],
    ['set-option', '-w', '-t', t, 'automatic-rename', 'off'],
    ['set-option', '-w', '-t', t, 'allow-rename', 'off'],
    ...(w.keepDead ? [['set-option', '-w', '-t', t, 'remain-on-exit', 'on']] : []),
  ];
}

/**
 * One invocation per further window. Unit windows are built column-major (contract §7.3):
 * split 0 right (→ slot 2), split 0 down (→ slot 1), split 2 down (→ slot 3); extra slots 4, 5
 * are split from the last pane and the window tiled. Each pane is piped (with `pipes`) and tagged
 * right after it appears, while its index is still known.
 */
export function createWindowCommands(
  name: string,
  w: WindowPlan,
  pipes?: PipeCommands,
): string[][] {
  const [p0, ...rest] = w.panes;
  const cmds: string[][] = [
    [
      'new-window',
      '-d',
      '-t',
      exactWindow(name, w.index),
      '-n',
      w.name,
      '-c',
      p0.cwd,
      ...envArgs(p0.env),
      ...cmdArgs(p0),
    ],
    ...windowOptions(name, w),
    ...tagPane(exactPane(name, w.index, 0), p0, pipes),
  ];
  const split = (dir: '-h' | '-v', from: number, pane: PanePlan, newIndex: number) => {
    cmds.push([
      'split-window',
      '-d',
      dir,
      '-t',
      exactPane(name, w.index, from),
      '-c',
      pane.cwd,
      ...envArgs(pane.env),
      ...cmdArgs(pane),
    ]);
    cmds.push(...tagPane(exactPane(name, w.index, newIndex), pane, pipes));
  };
  if (rest.length >= 3) {
    split('-h', 0, w.panes[2], 1);
    split('-v', 0, w.panes[1], 1);
    split('-v', 2, w.panes[3], 3);
    for (let i = 4; i < w.panes.length; i++) split('-v', i - 1, w.panes[i], i);
  } else {
    rest.forEach((pane, i) => split('-v', i, pane, i + 1));
  }
  if (w.tiled) cmds.push(['select-layout', '-t', exactWindow(name, w.index), 'tiled']);
  return cmds;
}

/** A pane id from the snapshot (`%n`, T-13): the only target a screen read ever uses (R7). */
export const PANE_ID = /^%[0-9]+$/;

/**
 * The screen of one pane as ONE invocation, so size, cursor and text come from the same instant:
 * tmux runs a command list without handling pane output in between. With history, its capture
 * comes first (`-S -n -E -1`), then the `display-message` line, which both reports size and cursor
 * and marks where the visible capture (`-S 0 -E -`) begins; without history, only the last two.
 * `-J` joins wrapped lines (§10.1) and `-e` keeps colours and attributes; `-S`/`-E` bound the
 * output (T-52). A vanished pane makes the first capture fail with "can't find pane" (T-60):
 * `display-message` alone would print the template with empty values and succeed (T-13).
 */
export function paneScreenCommands(
  paneId: string,
  history: number,
  ansi: boolean,
  marker: string,
): string[][] {
  const capture = (range: string[]) => [
    'capture-pane',
    '-p',
    '-J',
    ...(ansi ? ['-e'] : []),
    ...range,
    '-t',
    paneId,
  ];
  return [
    ...(history > 0 ? [capture(['-S', `-${history}`, '-E', '-1'])] : []),
    ['display-message', '-p', '-t', paneId, marker],
    capture(['-S', '0', '-E', '-']),
  ];
}
