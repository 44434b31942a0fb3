import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const ID = 'ebef3e29-0b76-4071-ad8d-d5d075397ec3';
const WS = '/home/me/project/sessions/ebef3e29-0b76-4071-ad8d-d5d075397ec3';

export class SessionInfoDto {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'ebef3e29' }) shortId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ enum: ['active', 'inactive', 'terminated', 'restoring'], example: 'inactive' })
  status!: string;
  @ApiProperty({ enum: ['workspace', 'tmux', 'legacy'], example: 'workspace' }) source!: string;
  @ApiProperty({ example: WS }) workingDir!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T19:59:35.000Z' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-25T20:03:10.000Z' })
  lastActivity?: string;
  @ApiProperty({ example: 4, description: 'Roster agents running now' }) agentCount!: number;
  @ApiProperty({ example: 5, description: 'Roster size' }) agentsTotal!: number;
  @ApiProperty({ example: 0 }) attachedClients!: number;
  @ApiProperty({ enum: ['running', 'stopped'], example: 'running' }) httpServerStatus!: string;
  @ApiProperty({ example: false }) restorable!: boolean;
}

export class SessionListDto {
  @ApiProperty({ type: [SessionInfoDto] }) sessions!: SessionInfoDto[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 1 }) count!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiPropertyOptional({ description: 'Served from an older snapshot while tmux is unavailable' })
  stale?: boolean;
  @ApiPropertyOptional() staleAgeMs?: number;
}

export class AgentStatusDto {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ example: 'Design Manager' }) name!: string;
  @ApiProperty({ enum: ['meta', 'manager', 'worker'] }) role!: string;
  @ApiProperty({ minimum: 0, maximum: 4, example: 1 }) unitId!: number;
  @ApiProperty({ enum: ['running', 'stopped', 'error'] }) status!: string;
  @ApiProperty({
    example: 'agent_process',
    enum: [
      'session_terminated',
      'pane_missing',
      'exited',
      'exit_unknown',
      'exit_status',
      'killed',
      'agent_process',
      'no_agent_process',
      'unsafe_dir',
    ],
  })
  reason!: string;
  @ApiProperty({ type: String, nullable: true, example: 'unit1' }) window!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 2 }) windowIndex!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 0 }) pane!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'claude' }) currentCommand!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: null }) exitStatus!: number | null;
}

export class WindowInfoDto {
  @ApiProperty({ example: 2 }) index!: number;
  @ApiProperty({ example: 'unit1' }) name!: string;
  @ApiProperty({ example: 4 }) paneCount!: number;
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: [String], example: ['10', '11'] }) agents!: string[];
  @ApiProperty({ format: 'date-time' }) lastActivity!: string;
}

export class StartupPromptDto {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed', 'unknown', 'cancelled'] }) state!: string;
  @ApiPropertyOptional({ example: 'AGENT_NOT_RUNNING' }) reason?: string;
}

export class StartupDto {
  @ApiProperty({ enum: ['starting', 'ready', 'degraded', 'failed', 'cancelled'] }) state!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
  @ApiProperty({ type: [StartupPromptDto] }) prompts!: StartupPromptDto[];
}

export class SessionDetailDto extends SessionInfoDto {
  @ApiProperty({ example: `${WS}/unit` }) unitDir!: string;
  @ApiProperty({ example: `${WS}/workflows` }) workflowsDir!: string;
  @ApiProperty({ type: [AgentStatusDto] }) agents!: AgentStatusDto[];
  @ApiProperty({ type: [WindowInfoDto] }) windows!: WindowInfoDto[];
  @ApiPropertyOptional({ type: Object, description: 'The agents object of the creating request' })
  config?: Record<string, unknown>;
  @ApiPropertyOptional({ type: StartupDto }) startup?: StartupDto;
  @ApiPropertyOptional({ type: [String], example: ['METADATA_UNREADABLE'] }) warnings?: string[];
}

export class SessionAgentsDto {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ type: [AgentStatusDto] }) agents!: AgentStatusDto[];
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
}
