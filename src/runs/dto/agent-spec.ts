import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, ValidateBy } from 'class-validator';
import { Required } from '../../common/validation/field.decorators';
import { IsAgentText } from '../../domain/message-text';

export interface Hosts {
  ids: readonly string[];
  /** "the manager of unit 1", "workers of unit 2": the subject of the `hostable_id` message. */
  what: string;
}

const TWO_DIGITS = /^[0-9]{2}$/;
/** Set by the parent while the body is transformed: which ids this position may hold (A16). */
const hosts = new WeakMap<object, Hosts>();
/** Later agents whose id an earlier valid agent already holds. */
const duplicates = new WeakSet<object>();

export const setHosts = (agent: object, h: Hosts): void => void hosts.set(agent, h);
export const hostsOf = (agent: object): Hosts | undefined => hosts.get(agent);
export const markDuplicate = (agent: object): void => void duplicates.add(agent);
const isTwoDigits = (v: unknown): v is string => typeof v === 'string' && TWO_DIGITS.test(v);

/** One agent of a team: its id and its initial prompt (§4.9). */
export class AgentSpec {
  @ApiProperty({ pattern: TWO_DIGITS.source, example: '10' })
  @Required('must be a two-digit string')
  @IsString({ message: 'must be a two-digit string' })
  @Matches(TWO_DIGITS, { message: 'must be two digits' })
  @ValidateBy({
    name: 'hostable_id',
    validator: {
      // A16: without a usable unitId the position has no ids, and hostable_id is not judged
      validate: (id, a) => {
        const h = a && hostsOf(a.object);
        return !isTwoDigits(id) || !h || h.ids.includes(id);
      },
      defaultMessage: (a) => {
        const h = hostsOf(a!.object)!;
        return `${h.what} ${h.ids.length === 1 ? 'is' : 'are'} ${h.ids.join(', ')}`;
      },
    },
  })
  @ValidateBy({
    name: 'unique',
    validator: {
      validate: (_id, a) => !a || !duplicates.has(a.object),
      defaultMessage: (a) => `agent ${String(a?.value)} appears twice`,
    },
  })
  id!: string;

  @ApiProperty({ minLength: 1, maxLength: 5000, example: 'Coordinate the design unit.' })
  @IsAgentText(5000)
  prompt!: string;
}
