import { Injectable, type PipeTransform } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { IsString, Matches, validateSync } from 'class-validator';
import { Required } from '../common/validation/field.decorators';
import { refuseTogether } from '../common/validation/issue-bucket';
import { toValidationError } from '../common/validation/to-issues';

export const AGENT_ID_PATTERN = /^[0-9]{2}$/;

class AgentIdParam {
  @Required('must be a two-digit agent id')
  @IsString({ message: 'must be a two-digit agent id' })
  @Matches(AGENT_ID_PATTERN, { message: 'must be a two-digit agent id' })
  agentId!: string;
}

/**
 * `:agentId` checked for its grammar only (§10.1); the value is then only looked up in the
 * snapshot's roster and never reaches tmux (R7): the pane id from the snapshot does.
 */
@Injectable()
export class AgentIdPipe implements PipeTransform<string, Promise<string>> {
  async transform(agentId: string): Promise<string> {
    const errors = validateSync(plainToInstance(AgentIdParam, { agentId }));
    // joins a bad :sessionId's issue in the same 400 (§3.3)
    if (errors.length) return refuseTogether(toValidationError(errors, 'path'));
    return agentId;
  }
}
