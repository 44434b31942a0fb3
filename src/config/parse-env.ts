import * as fs from 'node:fs';
import * as path from 'node:path';
import { KEY_ALLOWLIST } from '../tmux/tmux-args';
import { DEFAULT_BREAKER } from '../tmux/tmux-breaker';
import { ConfigError, type MasConfig } from './mas-config';

type Env = Record<string, string | undefined>;

const DEFAULT_AGENT = 'claude --model sonnet --dangerously-skip-permissions';
const DEFAULT_ORIGINS = 'http://localhost:5173,http://127.0.0.1:5173';
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Parses and checks `process.env`; throws {@link ConfigError} listing every problem. */
export function parseEnv(env: Env, cwd = process.cwd()): MasConfig {
  const problems: string[] = [];
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return def;
    if (!/^[0-9]{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return def;
    }
    return Number(raw);
  };
  const list = (name: string, def = ''): string[] =>
    (env[name] ?? def)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);

  const host = env.MAS_API_HOST || '127.0.0.1';
  const port = int('MAS_API_PORT', 8765, 0, 65535);
  const token = env.MAS_API_TOKEN || undefined;
  if (!isLoopback(host) && !token)
    problems.push(`MAS_API_HOST=${host} is not loopback: MAS_API_TOKEN is required`);
  const origins = list('MAS_API_CORS_ORIGINS', DEFAULT_ORIGINS);
  for (const o of origins)
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o))
      problems.push(`MAS_API_CORS_ORIGINS: "${o}" is not scheme://host[:port]`);
  const [cols, rows] = windowSize(env.MAS_TMUX_WINDOW_SIZE, problems);
  const socketEnv = env.MAS_TMUX_SOCKET || undefined;
  const tmuxSocket = socketEnv ? path.resolve(cwd, socketEnv) : defaultSocket(env);
  if (Buffer.byteLength(tmuxSocket) >= 108)
    problems.push(`tmux socket path is 108 bytes or longer: ${tmuxSocket} (T-01)`);
  const agentCommand = commandWords(
    'MAS_AGENT_COMMAND',
    env.MAS_AGENT_COMMAND ?? DEFAULT_AGENT,
    problems,
  );
  const agentStopKeys = list('MAS_AGENT_STOP_KEYS', 'C-c,C-c');
  for (const k of agentStopKeys)
    if (!KEY_ALLOWLIST.has(k))
      problems.push(`MAS_AGENT_STOP_KEYS: "${k}" is not one of ${[...KEY_ALLOWLIST].join(', ')}`);
  const sendEof = env.MAS_SEND_EOF ?? 'false';
  const tmuxControl = env.MAS_TMUX_CONTROL ?? 'true';
  if (!['true', 'false'].includes(tmuxControl))
    problems.push('MAS_TMUX_CONTROL must be true or false');
  if (!['true', 'false'].includes(sendEof)) problems.push('MAS_SEND_EOF must be true or false');
  const passthrough = list('MAS_AGENT_ENV_PASSTHROUGH');
  for (const v of passthrough)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(v) || v.startsWith('MAS_API_'))
      problems.push(`MAS_AGENT_ENV_PASSTHROUGH: "${v}" is not an allowed variable name`);

  const cfg: MasConfig = {
    host,
    port,
    token,
    allowedHosts: list('MAS_API_ALLOWED_HOSTS'),
    corsOrigins: origins.length === 1 && origins[0] === '*' ? '*' : origins,
    workspaceRoot: resolveRoot(env.MAS_WORKSPACE_ROOT || env.MAS_PROJECT_ROOT || cwd, cwd),
    tmuxBin: env.MAS_TMUX_BIN || 'tmux',
    tmuxSocket,
    tmuxSocketExplicit: Boolean(socketEnv),
    tmuxConfig: env.MAS_TMUX_CONFIG || undefined,
    tmuxTimeoutMs: int('MAS_TMUX_TIMEOUT_MS', 5000, 100, 5000),
    tmuxControl: tmuxControl === 'true',
    windowCols: cols,
    windowRows: rows,
    cacheTtlMs: int('MAS_CACHE_TTL_MS', 2000, 0, 5000),
    agentCommand,
    agentResumeArgs: commandWords(
      'MAS_AGENT_RESUME_ARGS',
      env.MAS_AGENT_RESUME_ARGS ?? '-c',
      problems,
      true,
    ),
    agentProcessNames: list('MAS_AGENT_PROCESS_NAMES'),
    agentEnvPassthrough: passthrough,
    masHome: env.MAS_HOME || undefined,
    agentLaunchCheckMs: int('MAS_AGENT_LAUNCH_CHECK_MS', 1000, 0, 60000),
    promptDelayMs: int('MAS_PROMPT_DELAY_MS', 5000, 0, 120000),
    submitDelayMs: int('MAS_SUBMIT_DELAY_MS', 300, 0, 10000),
    sendEof: sendEof === 'true',
    eofDelayMs: int('MAS_EOF_DELAY_MS', 3000, 0, 60000),
    stopGraceMs: int('MAS_STOP_GRACE_MS', 5000, 0, 15000),
    agentStopKeys,
    // §10.2, §10.4: transcript rollover size (64 KiB to 1 GiB) and the quiet time that makes an agent idle
    outputMaxBytes: int('MAS_OUTPUT_MAX_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    activityIdleMs: int('MAS_ACTIVITY_IDLE_MS', 3000, 500, 600_000),
    idempotencyTtlMs: int('MAS_IDEMPOTENCY_TTL_MS', 86_400_000, 1000, 604_800_000),
    breaker: {
      resetTimeoutMs: int('MAS_BREAKER_RESET_MS', DEFAULT_BREAKER.resetTimeoutMs, 100, 300_000),
      rollingWindowMs: int('MAS_BREAKER_WINDOW_MS', DEFAULT_BREAKER.rollingWindowMs, 1000, 600_000),
      volumeThreshold: int('MAS_BREAKER_VOLUME', DEFAULT_BREAKER.volumeThreshold, 5, 10_000), // ≥ 5: opossum's default 0 opens on the first failure
      errorThresholdPercentage: int(
        'MAS_BREAKER_ERROR_PERCENT',
        DEFAULT_BREAKER.errorThresholdPercentage,
        1,
        100,
      ),
    },
    rateLimits: {
      runs: int('MAS_RATE_LIMIT_RUNS', 10, 1, 1_000_000),
      message: int('MAS_RATE_LIMIT_MESSAGE', 120, 1, 1_000_000),
      lifecycle: int('MAS_RATE_LIMIT_LIFECYCLE', 30, 1, 1_000_000),
      observe: int('MAS_RATE_LIMIT_OBSERVE', 1200, 1, 1_000_000),
      other: int('MAS_RATE_LIMIT_OTHER', 600, 1, 1_000_000),
    },
    maxConnections: int('MAS_API_MAX_CONNECTIONS', 512, 16, 65_536),
    eventsMaxClients: int('MAS_EVENTS_MAX_CLIENTS', 64, 1, 1024),
    serviceEnv: env,
  };
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The path tmux itself would use for its default socket (T-01): TMUX_TMPDIR, else /tmp. */
function defaultSocket(env: Env): string {
  const dir = env.TMUX_TMPDIR || '/tmp';
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  return path.join(dir, `tmux-${uid}`, 'default');
}

function resolveRoot(root: string, cwd: string): string {
  const abs = path.resolve(cwd, root);
  try {
    return fs.realpathSync(abs);
  } catch {
    return abs; // a missing root is not fatal: reads find nothing, writes answer 503 (§6.1)
  }
}

function windowSize(raw: string | undefined, problems: string[]): [number, number] {
  const m = (raw || '200x50').match(/^([0-9]{2,4})x([0-9]{2,4})$/);
  if (!m) {
    problems.push(`MAS_TMUX_WINDOW_SIZE must look like 200x50 (got "${raw}")`);
    return [200, 50];
  }
  return [Number(m[1]), Number(m[2])];
}

/** A JSON array of strings or a whitespace word list; no quoting, no expansion (§7.5). */
function commandWords(name: string, raw: string, problems: string[], allowEmpty = false): string[] {
  let words: unknown = raw.trim().startsWith('[')
    ? safeJson(raw)
    : raw.split(/\s+/).filter(Boolean);
  if (!Array.isArray(words) || words.some((w) => typeof w !== 'string')) {
    problems.push(`${name} must be a JSON array of strings or a word list`);
    words = [];
  }
  const arr = words as string[];
  if (arr.some((w) => CONTROL.test(w))) problems.push(`${name} contains control characters`);
  if (!allowEmpty && (arr.length === 0 || arr[0] === '')) problems.push(`${name} is empty`);
  return arr;
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}
