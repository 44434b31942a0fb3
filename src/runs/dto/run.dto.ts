import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class AgentSpecDto {
  @ApiProperty({ pattern: '^[0-9]{2}$', example: '10' }) id!: string;
  @ApiProperty({ minLength: 1, maxLength: 5000, example: 'Coordinate the design unit.' })
  prompt!: string;
}

export class UnitSpecDto {
  @ApiProperty({ minimum: 1, maximum: 4, example: 1 }) unitId!: number;
  @ApiProperty({ type: AgentSpecDto, description: 'id must be <unitId>0' }) manager!: AgentSpecDto;
  @ApiProperty({
    type: [AgentSpecDto],
    minItems: 1,
    maxItems: 5,
    description: 'ids among <unitId>1–<unitId>5, unique',
  })
  workers!: AgentSpecDto[];
}

export class TeamSpecDto {
  @ApiPropertyOptional({ type: AgentSpecDto, description: 'id must be 00' })
  metaManager?: AgentSpecDto;
  @ApiProperty({ type: [UnitSpecDto], minItems: 1, maxItems: 4 }) units!: UnitSpecDto[];
}

const TEAM_EXAMPLE = {
  metaManager: { id: '00', prompt: 'Coordinate the units.' },
  units: [
    {
      unitId: 1,
      manager: { id: '10', prompt: 'Lead the design unit.' },
      workers: [
        { id: '11', prompt: 'Draft the UI.' },
        { id: '12', prompt: 'Map the user journeys.' },
      ],
    },
    {
      unitId: 2,
      manager: { id: '20', prompt: 'Lead development.' },
      workers: [{ id: '21', prompt: 'Build the front end.' }],
    },
  ],
};

export class RunsRequestDto {
  @ApiProperty({ type: TeamSpecDto, example: TEAM_EXAMPLE }) agents!: TeamSpecDto;
}

export class RunsResponse {
  @ApiProperty({ example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' }) sessionId!: string;
  @ApiProperty({ example: 'ebef3e29' }) shortId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ enum: ['starting'] }) status!: 'starting';
  @ApiProperty() workingDir!: string;
  @ApiProperty() unitDir!: string;
  @ApiProperty() workflowsDir!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ example: 'tmux attach-session -t mas-ebef3e29' }) attachCommand!: string;
  @ApiProperty({ type: [String], example: ['00', '10', '11'] }) agents!: string[];
}
