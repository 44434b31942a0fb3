import { lstatSync } from 'node:fs';
import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import { readTranscript, TranscriptRangeError } from '../core/transcript/transcript-reader';
import { CheckedDir } from '../workspace/checked-dir';
import { NotFoundError, ValidationError } from '../errors/mas-error';
import type { AgentOutput, OutputQuery } from './dto/output.dto';

/**
 * GET …/agents/:agentId/output (§10.2): a byte range of an agent's transcript. Works for stopped
 * sessions too; only sessions with a session directory have transcripts.
 */
@Injectable()
export class OutputService {
  constructor(private readonly store: SessionStore) {}

  async output(ref: SessionRef, agentId: string, q: OutputQuery): Promise<AgentOutput> {
    const k = await this.store.find(ref);
    if (k.source !== 'workspace')
      throw new NotFoundError('TRANSCRIPT_NOT_FOUND', 'This session has no transcript', {
        sessionId: k.id,
        source: k.source,
      });
    if (!k.roster.includes(agentId))
      throw new NotFoundError('AGENT_NOT_FOUND', 'Agent not found', {
        agentId,
        reason: 'not_in_roster',
      });
    const from = q.from === undefined ? undefined : Number(q.from);
    const dir = await openForRead(path.join(path.resolve(k.workingDir), 'output'), k.id);
    try {
      const r = readTranscript(dir?.fdPath ?? EMPTY, agentId, {
        from,
        limit: q.limit,
        format: q.format,
        final: !k.tmux,
      });
      return { sessionId: k.id, agentId, format: q.format, ...r };
    } catch (e) {
      if (!(e instanceof TranscriptRangeError)) throw e;
      throw new ValidationError([
        {
          location: 'query',
          field: 'from',
          rule: 'range',
          message: `must be at most ${e.end}, the end of the transcript`,
          received: q.from,
        },
      ]);
    } finally {
      await dir?.close();
    }
  }
}

/** A directory that never exists: a transcript not begun reads as empty. */
const EMPTY = '/nonexistent/mas-output';

/**
 * The `output` directory through a checked descriptor (A10, §6.2): never read through a symlink or
 * a moved directory. Missing is an empty transcript; anything else there is refused.
 */
async function openForRead(dir: string, sessionId: string): Promise<CheckedDir | undefined> {
  try {
    return await CheckedDir.open(dir);
  } catch {
    if (!existsAsAnything(dir)) return undefined;
    throw new NotFoundError('TRANSCRIPT_NOT_FOUND', 'This session has no readable transcript', {
      sessionId,
      reason: 'unsafe_directory',
    });
  }
}

function existsAsAnything(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
