import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SESSION_STATUSES, type SessionStatus } from '../../domain/vocabulary';
import { AgentStatus } from '../../core/dto/session.dto';

const ID = 'ebef3e29-0b76-4071-ad8d-d5d075397ec3';
const WS = '/home/me/project/sessions/ebef3e29-0b76-4071-ad8d-d5d075397ec3';

export class ConnectionDetails {
  @ApiProperty({ example: 6 }) windows!: number;
  @ApiProperty({ example: 5 }) activeAgents!: number;
  @ApiProperty({ example: 0 }) attachedClients!: number;
  @ApiPropertyOptional({ example: 'unit1' }) focusedWindow?: string;
}

export class ConnectionInfo {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'ebef3e29' }) shortId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ enum: ['connected'] }) status!: 'connected';
  @ApiProperty({ example: 'tmux attach-session -t mas-ebef3e29:unit1' }) attachCommand!: string;
  @ApiProperty({ example: WS }) workingDir!: string;
  @ApiProperty({ example: `${WS}/unit` }) unitDir!: string;
  @ApiProperty({ example: `${WS}/workflows` }) workflowsDir!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ type: ConnectionDetails }) connectionDetails!: ConnectionDetails;
}

export class StopResponse {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ enum: ['stopped'] }) status!: 'stopped';
  @ApiProperty({ enum: SESSION_STATUSES }) previousStatus!: SessionStatus;
  @ApiProperty() alreadyStopped!: boolean;
  @ApiProperty({ description: 'Every agent had exited before the kill' }) graceful!: boolean;
  @ApiPropertyOptional({ type: [String], example: ['INDEX_UPDATE_FAILED'] }) warnings?: string[];
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
}

export class RestoreResponse {
  @ApiProperty({ example: ID }) sessionId!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) tmuxSession!: string;
  @ApiProperty({ example: 'tmux attach-session -t mas-ebef3e29' }) attachCommand!: string;
  @ApiProperty({ enum: ['restored'] }) status!: 'restored';
  @ApiProperty() agentsStarted!: boolean;
  @ApiProperty({ type: [AgentStatus] }) agents!: AgentStatus[];
  @ApiProperty({ example: WS }) workingDir!: string;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ format: 'date-time' }) restoredAt!: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiPropertyOptional({
    type: [String],
    example: ['METADATA_UNREADABLE'],
    description: 'Files left untouched because they could not be read first (A10)',
  })
  warnings?: string[];
}
