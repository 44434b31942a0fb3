import type { KnownSession } from './snapshot';
import type { SessionPlan } from '../tmux/tmux.types';

/**
 * What tmux made, against the creation layout (§7.3): every window at its index with its name, and
 * every roster slot in its window at its pane index. A user's tmux configuration can break it with
 * hooks (a window renamed or added, a layout re-tiled) while every command still succeeds (T-05);
 * `mas send` then finds the wrong pane, so such a create is rolled back instead of answered.
 */
export function layoutProblems(plan: SessionPlan, k: KnownSession): string[] {
  const problems: string[] = [];
  const made = k.windows.map((w) => `${w.index}:${w.name}`).join(',');
  const planned = plan.windows.map((w) => `${w.index}:${w.name}`).join(',');
  if (made !== planned) problems.push(`windows ${made}, expected ${planned}`);
  for (const w of plan.windows) {
    w.panes.forEach((p, index) => {
      if (!p.agentId) return;
      const a = k.agents.find((x) => x.agentId === p.agentId);
      if (!a?.paneId || a.windowIndex !== w.index || a.window !== w.name || a.pane !== index)
        problems.push(`agent ${p.agentId} not at ${w.name}.${index}`);
    });
  }
  return problems;
}
