/** `cancelled`: not yet typed when the job was cancelled by stop or a forced restore (A2). */
export type PromptState = 'pending' | 'delivered' | 'failed' | 'unknown' | 'cancelled';

/** Progress of a create's background phase (contract §4.9), shown as `startup` in the detail. */
export interface StartupView {
  state: 'starting' | 'ready' | 'degraded' | 'failed' | 'cancelled';
  startedAt: string;
  finishedAt?: string;
  prompts: { agentId: string; state: PromptState; reason?: string }[];
}
