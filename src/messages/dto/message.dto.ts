import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class ReceiptDto {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'unit1' }) window!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 0 }) pane!: number | null;
  @ApiProperty({
    enum: ['delivered', 'not_found', 'not_running', 'failed', 'unknown', 'not_attempted'],
  })
  status!: string;
  @ApiPropertyOptional({ example: 'no_agent_process' }) reason?: string;
}

export class MessageResponseDto {
  @ApiProperty({ enum: ['acknowledged', 'partial'] }) status!: string;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ example: 'agent-10,workers' }) target!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) session!: string;
  @ApiProperty({ example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' }) sessionId!: string;
  @ApiProperty({ example: 'Please review the API draft.' }) message!: string;
  @ApiProperty() execute!: boolean;
  @ApiProperty({ example: 2 }) delivered!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({ type: [ReceiptDto] }) receipts!: ReceiptDto[];
}
