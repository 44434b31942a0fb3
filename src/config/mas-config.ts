/** The whole, validated configuration of one service process (contract §2.5). */
export interface MasConfig {
  host: string;
  port: number;
  corsOrigins: string[] | '*';
  allowedHosts: string[];
  token?: string;
  workspaceRoot: string;
  tmuxBin: string;
  /** Socket passed with `-S` on every call (T-01). */
  tmuxSocket: string;
  /** True when MAS_TMUX_SOCKET named a socket other than the user's default one. */
  tmuxSocketExplicit: boolean;
  tmuxConfig?: string;
  tmuxTimeoutMs: number;
  /** Writes go over a persistent control-mode client when possible (decision 0006). */
  tmuxControl: boolean;
  windowCols: number;
  windowRows: number;
  cacheTtlMs: number;
  agentCommand: string[];
  agentResumeArgs: string[];
  agentProcessNames: string[];
  agentEnvPassthrough: string[];
  masHome?: string;
  agentLaunchCheckMs: number;
  promptDelayMs: number;
  submitDelayMs: number;
  sendEof: boolean;
  eofDelayMs: number;
  stopGraceMs: number;
  agentStopKeys: string[];
  idempotencyTtlMs: number;
  /** A transcript file rolls over to `.log.1` at this size (§10.2). */
  outputMaxBytes: number;
  /** No output for this long makes an agent `idle` (§10.4). */
  activityIdleMs: number;
  /** Breaker (R5): open time before the trial call, rolling window, minimum calls, failure percentage. */
  breaker: {
    resetTimeoutMs: number;
    rollingWindowMs: number;
    volumeThreshold: number;
    errorThresholdPercentage: number;
  };
  rateLimits: { runs: number; message: number; lifecycle: number; observe: number; other: number };
  /** Open HTTP connections beyond which new ones are closed at once (A6). */
  maxConnections: number;
  /** Open `/events` streams beyond which openings answer 503 `STREAM_LIMIT` (§10.3). */
  eventsMaxClients: number;
  /** Environment the service itself was started with; the source of PATH and passthrough values. */
  serviceEnv: Record<string, string | undefined>;
}

/** DI token for {@link MasConfig}. */
export const MAS_CONFIG = Symbol('MAS_CONFIG');

/** Thrown at start-up with every problem found, so the process never runs half-configured. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n - ${problems.join('\n - ')}`);
  }
}

/** Request bodies: Fastify enforces it while reading (413 before parsing, contract §2.2). */
export const BODY_LIMIT = 1024 * 1024;
