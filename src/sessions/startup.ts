export type PromptState = 'pending' | 'delivered' | 'failed' | 'unknown';

/** Progress of a create's background phase (contract §4.9), shown as `startup` in the detail. */
export interface StartupView {
  state: 'starting' | 'ready' | 'degraded' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt?: string;
  prompts: { agentId: string; state: PromptState; reason?: string }[];
}
