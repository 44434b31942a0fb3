import { ApiProperty } from '@nestjs/swagger';
import {
  ACTIVITIES,
  type Activity,
  AGENT_STATUSES,
  SESSION_STATUSES,
  type AgentState,
  type SessionStatus,
} from '../../domain/vocabulary';

export class StatusAgent {
  @ApiProperty({ example: '10' }) id!: string;
  @ApiProperty({ enum: AGENT_STATUSES }) status!: AgentState;
  @ApiProperty({ type: String, nullable: true, example: 'unit1' }) window!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 0 }) pane!: number | null;
  @ApiProperty({ enum: ACTIVITIES, description: '§10.4, as on AgentStatus' }) activity!: Activity;
  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  lastOutputAt!: string | null;
}

export class HttpServerInfo {
  @ApiProperty({ type: 'boolean', description: 'Always true: this service answered' })
  running!: true;
  @ApiProperty({ example: 48211 }) pid!: number;
  @ApiProperty({ example: 8765 }) port!: number;
}

/** GET /status, the legacy summary of one session (§4.11); nulls when there is none. */
export class StatusResponse {
  @ApiProperty({ enum: ['running', 'partial', 'stopped'] }) status!:
    | 'running'
    | 'partial'
    | 'stopped';
  @ApiProperty({ type: String, nullable: true, example: 'mas-ebef3e29' }) session!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' })
  sessionId!: string | null;
  @ApiProperty({ enum: SESSION_STATUSES, nullable: true, example: 'inactive' })
  sessionStatus!: SessionStatus | null;
  @ApiProperty({ type: [StatusAgent] }) agents!: StatusAgent[];
  @ApiProperty({ type: HttpServerInfo }) httpServer!: HttpServerInfo;
  @ApiProperty({ format: 'date-time', example: '2026-11-25T20:08:00.000Z' }) timestamp!: string;
}
