import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
} from 'class-validator';
import { ArrayOfObjects, IfPresent, Required } from '../../common/validation/field.decorators';
import { AgentSpec } from './agent-spec';
import {
  isDuplicateUnit,
  managerHosts,
  markRepeats,
  META_HOSTS,
  withHosts,
  workerHosts,
} from './team-rules';
import { TEAM_EXAMPLE } from './team-example';

const AGENT = 'must be an object with id and prompt';
const UNIT_ID = 'must be an integer from 1 to 4';
const WORKERS = 'must be an array of 1 to 5 workers';
const UNITS = 'must be an array of 1 to 4 units';

export class UnitSpec {
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 4, example: 1 })
  @Required(UNIT_ID)
  @IsInt({ message: UNIT_ID })
  @Min(1, { message: UNIT_ID })
  @Max(4, { message: UNIT_ID })
  @ValidateBy({
    name: 'unique',
    validator: {
      validate: (_v, a) => !a || !isDuplicateUnit(a.object),
      defaultMessage: (a) => `unit ${String(a?.value)} appears twice`,
    },
  })
  unitId!: number;

  @ApiProperty({ type: AgentSpec, description: 'id must be <unitId>0' })
  @Required(AGENT)
  @IsObject({ message: AGENT })
  @ValidateNested({ message: AGENT })
  @Type(() => AgentSpec)
  @Transform(({ value, obj }) => withHosts(value, managerHosts(obj.unitId)))
  manager!: AgentSpec;

  @ApiProperty({
    type: [AgentSpec],
    minItems: 1,
    maxItems: 5,
    description: 'ids among <unitId>1–<unitId>5, unique',
  })
  @Required(WORKERS)
  @IsArray({ message: WORKERS })
  @ArrayMinSize(1, { message: 'must hold 1 to 5 workers' })
  @ArrayMaxSize(5, { message: 'must hold 1 to 5 workers' })
  @ValidateNested({ each: true, message: AGENT })
  @Type(() => AgentSpec)
  @ArrayOfObjects()
  @Transform(({ value, obj }) => withHosts(value, workerHosts(obj.unitId)))
  workers!: AgentSpec[];
}

export class TeamSpec {
  @ApiPropertyOptional({ type: AgentSpec, description: 'id must be 00' })
  @IfPresent()
  @IsObject({ message: AGENT })
  @ValidateNested({ message: AGENT })
  @Type(() => AgentSpec)
  @Transform(({ value }) => withHosts(value, META_HOSTS))
  metaManager?: AgentSpec;

  @ApiProperty({ type: [UnitSpec], minItems: 1, maxItems: 4 })
  @Required(UNITS)
  @IsArray({ message: UNITS })
  @ArrayMinSize(1, { message: 'must hold 1 to 4 units' })
  @ArrayMaxSize(4, { message: 'must hold 1 to 4 units' })
  @ValidateNested({ each: true, message: 'must be an object' })
  @Type(() => UnitSpec)
  @ArrayOfObjects()
  units!: UnitSpec[];
}

/** POST /runs (contract §4.9): unknown keys are dropped here, so config.json holds known keys only. */
export class RunsRequest {
  @ApiProperty({ type: TeamSpec, example: TEAM_EXAMPLE })
  @Required('must be an object')
  @IsObject({ message: 'must be an object' })
  @ValidateNested({ message: 'must be an object' })
  @Type(() => TeamSpec)
  @Transform(({ value }) => markRepeats(value))
  agents!: TeamSpec;
}
