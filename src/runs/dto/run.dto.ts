import { ApiProperty } from '@nestjs/swagger';

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
