import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { MasConfig } from '../src/config/mas-config';
import { planLayout } from '../src/domain/session-layout';
import { SpawnTmuxRunner } from '../src/tmux/tmux-runner';
import { TmuxGateway } from '../src/tmux/tmux.gateway';
import { WorkspaceReader } from '../src/workspace/workspace.reader';
import { WorkspaceWriter } from '../src/workspace/workspace.writer';

const ROSTER = ['00', '10', '11', '12', '13', '20', '21', '22', '23', '30', '31', '32', '33'];

/**
 * Builds MAS sessions the way POST /runs does (same layout plan, same tmux argv, same workspace
 * writer), without the HTTP round trip and the prompt job, so large N is quick to set up.
 */
export async function populate(
  cfg: MasConfig,
  count: number,
  agentArgv: string[],
): Promise<string[]> {
  Logger.overrideLogger(['error', 'warn']); // the gateway's per-call debug lines would flood the report
  const reader = new WorkspaceReader(cfg);
  const writer = new WorkspaceWriter(cfg, reader);
  const gateway = new TmuxGateway(new SpawnTmuxRunner(cfg), cfg);
  const ids: string[] = [];
  try {
    await writer.checkWritable();
    const one = async () => {
      const id = randomUUID();
      await writer.create({ id, agents: ROSTER, config: {}, createdAt: new Date() });
      const tags = {
        '@mas_session_id': id,
        '@mas_workspace': cfg.workspaceRoot,
        '@mas_created_by': 'mas-api',
      };
      await gateway.createSession(
        planLayout(cfg, { id, sessionDir: reader.sessionDir(id), roster: ROSTER, agentArgv, tags }),
      );
      ids.push(id);
    };
    // a loaded machine can make tmux miss its 5 s deadline: one more try, said aloud (the session the
    // timed-out call may still have made is one more than asked for)
    const once = () =>
      one().catch((e: unknown) => {
        console.warn(`populate: ${String(e)}; trying again`);
        return one();
      });
    for (let i = 0; i < count; i += 4)
      await Promise.all(Array.from({ length: Math.min(4, count - i) }, once));
  } finally {
    gateway.onModuleDestroy();
  }
  return ids;
}
