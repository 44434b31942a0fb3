import { ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';
import { QueryString } from '../../common/validation/field.decorators';
import { DEFAULT_EVENT_TYPES, EVENT_TYPES, type EventType } from '../../core/event-bus';
import {
  IsSessionRef,
  SESSION_REF_PATTERN,
  type SessionRef,
  toSessionRef,
} from '../../core/session-ref';

const NAMES = new Set<string>(EVENT_TYPES);

/** GET /events (§10.3): an optional session reference and a comma list of event names. */
export class EventsQuery {
  @ApiPropertyOptional({
    description: 'Full id, short id or tmux name; omitted: every session of this workspace',
    maxLength: 36,
    pattern: SESSION_REF_PATTERN.source,
  })
  @QueryString()
  @IsSessionRef()
  sessionId?: string;

  @ApiPropertyOptional({
    description:
      `Comma list of ${EVENT_TYPES.join(', ')}; default ${DEFAULT_EVENT_TYPES.join(',')}. ` +
      '`output` is opt-in (live transcript bytes of every agent); `gap` events are always sent ' +
      'whatever this says (those about output only with `output`)',
    example: 'session,agent',
    maxLength: 256,
  })
  @QueryString()
  @ValidateBy({
    name: 'isIn',
    validator: {
      validate: (v) =>
        typeof v === 'string' && v.length <= 256 && v.split(',').every((t) => NAMES.has(t)),
      defaultMessage: () => `must be a comma list of ${EVENT_TYPES.join(', ')}`,
    },
  })
  types?: string;

  get ref(): SessionRef | undefined {
    return this.sessionId === undefined ? undefined : toSessionRef(this.sessionId);
  }

  get typeSet(): Set<EventType> {
    return new Set((this.types?.split(',') ?? DEFAULT_EVENT_TYPES) as EventType[]);
  }
}
