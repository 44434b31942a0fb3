import { accessSync, constants as C, statSync } from 'node:fs';
import * as path from 'node:path';
import { roleOf, unitOf } from './agents';
import type { MasConfig } from '../config/mas-config';
import { AgentCommandError } from '../errors/mas-error';
import type { PanePlan, SessionPlan, WindowPlan } from '../tmux/tmux.types';

/** PATH of the panes: the service's, preceded by MAS_HOME when configured (§7.5). */
export function panePath(cfg: MasConfig): string {
  const base = cfg.serviceEnv.PATH || '/usr/local/bin:/usr/bin:/bin';
  return cfg.masHome ? `${cfg.masHome}:${base}` : base;
}

/** Resolves argv[0] of the agent command to an absolute executable, else 503 (T-43). */
export function resolveAgentCommand(cfg: MasConfig): string {
  const argv0 = cfg.agentCommand[0];
  const candidates = argv0.includes('/')
    ? [path.resolve(argv0)]
    : panePath(cfg)
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, argv0));
  for (const c of candidates) {
    try {
      if (statSync(c).isFile()) {
        accessSync(c, C.X_OK);
        return c;
      }
    } catch {
      /* next */
    }
  }
  throw new AgentCommandError(`Agent command "${argv0}" cannot be resolved to an executable`);
}

export interface LayoutInput {
  id: string;
  sessionDir: string;
  roster: string[];
  /** Absolute agent path plus arguments; absent → idle shells in roster slots (restore without agents). */
  agentArgv?: string[];
  /** Slots whose directory failed the A3 check: an idle shell tagged `@mas_agent_unsafe` instead. */
  unsafe?: Set<string>;
  tags: Record<string, string>;
}

/** The creation layout of contract §7.3 as plain data. */
export function planLayout(cfg: MasConfig, input: LayoutInput): SessionPlan {
  const name = `mas-${input.id.slice(0, 8)}`;
  const dir = input.sessionDir;
  const unitDir = path.join(dir, 'unit');
  // Passthrough values may be secrets: they travel apart from the argv-borne variables (A5).
  const secretEnv: Record<string, string> = Object.fromEntries(
    cfg.agentEnvPassthrough
      .filter((k) => cfg.serviceEnv[k] !== undefined)
      .map((k) => [k, cfg.serviceEnv[k]!]),
  );
  const sessionEnv: Record<string, string> = {
    PATH: panePath(cfg),
    LC_ALL: 'C.UTF-8',
    MAS_SESSION_ID: input.id,
    MAS_SESSION_NAME: name,
    MAS_SESSION_DIR: dir,
    MAS_UNIT_DIR: unitDir,
    MAS_WORKFLOWS_DIR: path.join(dir, 'workflows'),
    MAS_WORKSPACE_ROOT: cfg.workspaceRoot,
    MAS_PROJECT_ROOT: cfg.workspaceRoot,
    MAS_API_URL: `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${cfg.port}`,
    ...(cfg.masHome ? { MAS_HOME: cfg.masHome } : {}),
  };
  const idle = (): PanePlan => ({ launched: false, cwd: dir, env: {} });
  const slot = (id: string): PanePlan => {
    if (!input.roster.includes(id)) return idle();
    if (input.unsafe?.has(id))
      return { agentId: id, launched: false, unsafe: true, cwd: dir, env: {} };
    const agentDir = path.join(unitDir, id);
    const env = {
      MAS_AGENT_ID: id,
      MAS_AGENT_ROLE: roleOf(id),
      MAS_UNIT_ID: String(unitOf(id)),
      MAS_AGENT_DIR: agentDir,
    };
    return {
      agentId: id,
      launched: Boolean(input.agentArgv),
      cwd: agentDir,
      env,
      command: input.agentArgv && directArgv(input.agentArgv),
    };
  };
  const windows: WindowPlan[] = [
    { index: 0, name: 'shell', panes: [idle()], keepDead: false, tiled: false },
    { index: 1, name: 'meta-manager', panes: [slot('00')], keepDead: true, tiled: false },
  ];
  const hasUnit4 = input.roster.some((id) => unitOf(id) === 4);
  for (const u of hasUnit4 ? [1, 2, 3, 4] : [1, 2, 3]) {
    const maxSlot = Math.max(
      3,
      ...input.roster.filter((id) => unitOf(id) === u).map((id) => Number(id[1])),
    );
    const panes = Array.from({ length: maxSlot + 1 }, (_, x) => slot(`${u}${x}`));
    windows.push({
      index: windows.length,
      name: `unit${u}`,
      panes,
      keepDead: true,
      tiled: panes.length > 4,
    });
  }
  windows.push({
    index: windows.length,
    name: 'monitor',
    panes: [idle()],
    keepDead: false,
    tiled: false,
  });
  return {
    name,
    cols: cfg.windowCols,
    rows: cfg.windowRows,
    sessionEnv,
    secretEnv,
    tags: input.tags,
    windows,
    selectWindow: 1,
  };
}

/**
 * tmux runs a command given as ONE argument through `sh -c` (T-34): a one-word agent command (an
 * absolute path) would be parsed by a shell, and under dash the pane's process stays `sh`, so the
 * agent never counts as running. `env --` makes it two words: executed directly, and `env` execs
 * the agent, which is then the pane's own process (§7.5).
 */
export function directArgv(argv: string[]): string[] {
  return argv.length === 1 ? ['/usr/bin/env', '--', argv[0]] : argv;
}
