import { rosterSort } from '../domain/agents';
import { normaliseText } from '../domain/message-text';
import type { AgentSpec } from './dto/agent-spec';
import type { RunsRequest } from './dto/runs-request';

/** What a create needs from a validated RunsRequest. */
export interface RunPlan {
  roster: string[];
  /** The prompt to type per agent id, line ends normalised. */
  prompts: Map<string, string>;
  /** The accepted `agents` object for config.json: known keys only, prompts as sent. */
  config: Record<string, unknown>;
}

const spec = (a: AgentSpec) => ({ id: a.id, prompt: a.prompt });

export function runPlan(req: RunsRequest): RunPlan {
  const { metaManager, units } = req.agents;
  const agents = [
    ...(metaManager ? [metaManager] : []),
    ...units.flatMap((u) => [u.manager, ...u.workers]),
  ];
  const prompts = new Map(agents.map((a) => [a.id, normaliseText(a.prompt)]));
  const config: Record<string, unknown> = {};
  if (metaManager) config.metaManager = spec(metaManager);
  config.units = units.map((u) => ({
    unitId: u.unitId,
    manager: spec(u.manager),
    workers: u.workers.map(spec),
  }));
  return { roster: rosterSort(prompts.keys()), prompts, config };
}
