import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ACTIVITIES,
  AGENT_REASONS,
  AGENT_STATUSES,
  PROMPT_STATES,
  ROLES,
  SESSION_SOURCES,
  SESSION_STATUSES,
  STARTUP_STATES,
  type Activity,
  type AgentState,
  type PromptState,
  type Role,
  type SessionSource,
  type SessionStatus,
  type StartupState,
} from '../../domain/vocabulary';

const ID = 'ebef3e29-0b76-4071-ad8d-d5d075397ec3';
const WS = '/home/me/project/sessions/ebef3e29-0b76-4071-ad8d-d5d075397ec3';

export class SessionInfo {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'ebef3e29' }) shortId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ enum: SESSION_STATUSES, example: 'inactive' }) status!: SessionStatus;
  @ApiProperty({ enum: SESSION_SOURCES, example: 'workspace' }) source!: SessionSource;
  @ApiProperty({ example: WS }) workingDir!: string;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T19:59:35.000Z' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time', example: '2026-11-25T20:03:10.000Z' })
  lastActivity?: string;
  @ApiProperty({ example: 4, description: 'Roster agents running now' }) agentCount!: number;
  @ApiProperty({ example: 5, description: 'Roster size' }) agentsTotal!: number;
  @ApiProperty({ example: 0 }) attachedClients!: number;
  @ApiProperty({ enum: ['running', 'stopped'], example: 'running' })
  httpServerStatus!: 'running' | 'stopped';
  @ApiProperty({ example: false }) restorable!: boolean;
}

export class SessionList {
  @ApiProperty({ type: [SessionInfo] }) sessions!: SessionInfo[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 1 }) count!: number;
  @ApiProperty({ example: 50 }) limit!: number;
  @ApiProperty({ example: 0 }) offset!: number;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiPropertyOptional({ description: 'Served from an older snapshot while tmux is unavailable' })
  stale?: boolean;
  @ApiPropertyOptional() staleAgeMs?: number;
}

export class AgentStatus {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ example: 'Design Manager' }) name!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ minimum: 0, maximum: 4, example: 1 }) unitId!: number;
  @ApiProperty({ enum: AGENT_STATUSES }) status!: AgentState;
  @ApiProperty({ example: 'agent_process', enum: AGENT_REASONS }) reason!: string;
  @ApiProperty({ type: String, nullable: true, example: 'unit1' }) window!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 2 }) windowIndex!: number | null;
  @ApiProperty({ type: Number, nullable: true, example: 0 }) pane!: number | null;
  @ApiProperty({ type: String, nullable: true, example: 'claude' }) currentCommand!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: null }) exitStatus!: number | null;
  @ApiProperty({
    enum: ACTIVITIES,
    description:
      '§10.4: `working` (pane output within MAS_ACTIVITY_IDLE_MS), `idle` (none since), `unknown` ' +
      '(not observed: no capture, the service just started, or the pane is dead)',
  })
  activity!: Activity;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'When this service process last saw the pane print; null if it has not',
  })
  lastOutputAt!: string | null;
}

export class WindowInfo {
  @ApiProperty({ example: 2 }) index!: number;
  @ApiProperty({ example: 'unit1' }) name!: string;
  @ApiProperty({ example: 4 }) paneCount!: number;
  @ApiProperty() active!: boolean;
  @ApiProperty({ type: [String], example: ['10', '11'] }) agents!: string[];
  @ApiProperty({ format: 'date-time' }) lastActivity!: string;
}

export class StartupPrompt {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ enum: PROMPT_STATES }) state!: PromptState;
  @ApiPropertyOptional({ example: 'AGENT_NOT_RUNNING' }) reason?: string;
}

export class Startup {
  @ApiProperty({ enum: STARTUP_STATES }) state!: StartupState;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) finishedAt?: string;
  @ApiProperty({ type: [StartupPrompt] }) prompts!: StartupPrompt[];
}

export class SessionDetail extends SessionInfo {
  @ApiProperty({ example: `${WS}/unit` }) unitDir!: string;
  @ApiProperty({ example: `${WS}/workflows` }) workflowsDir!: string;
  @ApiProperty({ type: [AgentStatus] }) agents!: AgentStatus[];
  @ApiProperty({ type: [WindowInfo] }) windows!: WindowInfo[];
  @ApiPropertyOptional({ type: Object, description: 'The agents object of the creating request' })
  config?: Record<string, unknown>;
  @ApiPropertyOptional({ type: Startup }) startup?: Startup;
  @ApiPropertyOptional({ type: [String], example: ['METADATA_UNREADABLE'] }) warnings?: string[];
}

export class SessionAgents {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ type: [AgentStatus] }) agents!: AgentStatus[];
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
}
