import * as path from 'node:path';
import { Injectable } from '@nestjs/common';
import type { SessionRef } from '../core/session-ref';
import { SessionStore } from '../core/session-store';
import { readTranscript, TranscriptRangeError } from '../core/transcript/transcript-reader';
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
    try {
      const r = readTranscript(path.join(k.workingDir, 'output'), agentId, {
        from,
        limit: q.limit,
        format: q.format,
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
    }
  }
}
