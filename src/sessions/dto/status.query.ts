import { ApiPropertyOptional } from '@nestjs/swagger';
import { QueryString } from '../../common/validation/field.decorators';
import {
  IsSessionRef,
  SESSION_REF_PATTERN,
  type SessionRef,
  toSessionRef,
} from '../../core/session-ref';

/** GET /status (§4.11): one optional session reference. */
export class StatusQuery {
  @ApiPropertyOptional({
    description: 'Full id, short id or tmux name',
    maxLength: 36,
    pattern: SESSION_REF_PATTERN.source,
  })
  @QueryString()
  @IsSessionRef()
  sessionId?: string;

  /** The validated reference, or undefined for "the current session". */
  get ref(): SessionRef | undefined {
    return this.sessionId === undefined ? undefined : toSessionRef(this.sessionId);
  }
}
