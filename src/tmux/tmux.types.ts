/** One pane as `list-panes -a` reports it (T-12). */
export interface TmuxPane {
  /** `%n`: stable while the server lives; the key for sends (T-13). */
  id: string;
  index: number;
  dead: boolean;
  deadStatus: number | null;
  deadSignal: number | null;
  inMode: boolean;
  currentCommand: string;
  /** `@mas_agent_id` tag, '' when untagged. */
  agentId: string;
  /** `@mas_agent_launched` = 1: the pane's own process is the agent. */
  launched: boolean;
  /** `@mas_agent_unsafe` = 1: the slot's directory failed the A3 check; an idle shell sits there. */
  unsafe: boolean;
  /** `pane_pipe` = 1: a `pipe-pane` command runs (the transcript's byte source, §10.2). */
  pipe?: boolean;
}

export interface TmuxWindow {
  id: string;
  index: number;
  name: string;
  active: boolean;
  paneCount: number;
  /** Epoch seconds of the last output in the window. */
  activity: number;
  panes: TmuxPane[];
}

export interface TmuxSession {
  /** `$n`: unique while the server lives, reused by the next server (T-13). */
  id: string;
  /** The server's pid: with `id` and `created`, tells this session from a restarted server's `$n`. */
  serverPid: number;
  name: string;
  /** Epoch seconds. */
  created: number;
  /** Number of attached clients, not a flag (T-12). */
  attached: number;
  /** `session_attached_list`: client names, comma-separated (ours is subtracted from `attached`). */
  clients: string;
  activity: number;
  tagSessionId: string;
  tagWorkspace: string;
  tagRequestId: string;
  windows: TmuxWindow[];
}

export interface TmuxTree {
  sessions: TmuxSession[];
}

/** One pane to create in the layout: its slot, start directory, environment and optional command. */
export interface PanePlan {
  agentId?: string;
  launched: boolean;
  /** The slot's directory failed the A3 check: tagged `@mas_agent_unsafe 1`. */
  unsafe?: boolean;
  cwd: string;
  env: Record<string, string>;
  /** argv after `--` (T-34); absent for an idle shell. */
  command?: string[];
}

export interface WindowPlan {
  index: number;
  name: string;
  panes: PanePlan[];
  /** remain-on-exit, for windows holding agent slots. */
  keepDead: boolean;
  tiled: boolean;
}

export interface SessionPlan {
  name: string;
  cols: number;
  rows: number;
  /** Non-secret session variables (§7.5): passed with `-e` (T-03). */
  sessionEnv: Record<string, string>;
  /** MAS_AGENT_ENV_PASSTHROUGH values: never in argv, only on stdin (A5, see secret-env.ts). */
  secretEnv: Record<string, string>;
  tags: Record<string, string>;
  windows: WindowPlan[];
  selectWindow: number;
}
