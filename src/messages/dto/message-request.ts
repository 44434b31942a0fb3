import { ApiProperty } from '@nestjs/swagger';
import { StrictBoolean } from '../../common/validation/field.decorators';
import {
  IsSessionRef,
  SESSION_REF_PATTERN,
  type SessionRef,
  toSessionRef,
} from '../../core/session-ref';
import { IsAgentText, normaliseText } from '../../domain/message-text';
import { IsTarget, parseTarget, type TargetSet } from '../message-target';

/** POST /message (contract §4.10). */
export class MessageRequest {
  @ApiProperty({
    example: 'mas-ebef3e29',
    description: 'Session reference: full id, short id or tmux name',
    maxLength: 36,
    pattern: SESSION_REF_PATTERN.source,
  })
  @IsSessionRef()
  session!: string;

  @ApiProperty({
    example: 'agent-10,workers',
    maxLength: 256,
    description:
      'all | managers | workers | agent-NN | NN | windowN | N | meta|design|development|business|unit4 | unitN, comma-separated',
  })
  @IsTarget()
  target!: string;

  @ApiProperty({
    example: 'Please review the API draft.',
    description: 'At most 65536 UTF-8 bytes; no control characters but TAB and LF',
  })
  @IsAgentText()
  message!: string;

  @StrictBoolean('false pastes without pressing Enter', true)
  execute = true;

  /** The session, as the validated reference. */
  get sessionRef(): SessionRef {
    return toSessionRef(this.session);
  }

  /** The validated target, expanded into ids and groups. */
  get targets(): TargetSet {
    return parseTarget(this.target)!;
  }

  /** The text to type: line ends normalised, nothing else touched. */
  get text(): string {
    return normaliseText(this.message);
  }
}
