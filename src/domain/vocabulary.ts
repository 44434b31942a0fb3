/**
 * The closed word lists of the contract's data models (§4.3, §4.9, §4.10, §5.4), each once: the
 * DTOs publish them as OpenAPI enums and the code takes its types from them.
 */
export const SESSION_STATUSES = ['active', 'inactive', 'terminated', 'restoring'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

export const SESSION_SOURCES = ['workspace', 'tmux', 'legacy'] as const;
export type SessionSource = (typeof SESSION_SOURCES)[number];

export const AGENT_STATUSES = ['running', 'stopped', 'error'] as const;
export type AgentState = (typeof AGENT_STATUSES)[number];

/** §5.4, plus `unsafe_dir` (A3). */
export const AGENT_REASONS = [
  'session_terminated',
  'pane_missing',
  'exited',
  'exit_unknown',
  'exit_status',
  'killed',
  'agent_process',
  'no_agent_process',
  'unsafe_dir',
] as const;

export const ROLES = ['meta', 'manager', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export const STARTUP_STATES = ['starting', 'ready', 'degraded', 'failed', 'cancelled'] as const;
export type StartupState = (typeof STARTUP_STATES)[number];

/** `cancelled`: not yet typed when the job was cancelled by stop or a forced restore (A2). */
export const PROMPT_STATES = ['pending', 'delivered', 'failed', 'unknown', 'cancelled'] as const;
export type PromptState = (typeof PROMPT_STATES)[number];

export const RECEIPT_STATUSES = [
  'delivered',
  'not_found',
  'not_running',
  'failed',
  'unknown',
  'not_attempted',
] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** §10.4: output within MAS_ACTIVITY_IDLE_MS, none since, or not observed. */
export const ACTIVITIES = ['working', 'idle', 'unknown'] as const;
export type Activity = (typeof ACTIVITIES)[number];
