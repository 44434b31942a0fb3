import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { RECEIPT_STATUSES, type ReceiptStatus } from '../../domain/vocabulary';

/** One agent's outcome of a delivery (§4.10): the /message answer and the startup prompts. */
export class Receipt {
  @ApiProperty({ example: '10' }) agentId!: string;
  @ApiProperty({ type: String, nullable: true, example: 'unit1' }) window!: string | null;
  @ApiProperty({ type: Number, nullable: true, example: 0 }) pane!: number | null;
  @ApiProperty({ enum: RECEIPT_STATUSES }) status!: ReceiptStatus;
  @ApiPropertyOptional({ example: 'no_agent_process' }) reason?: string;
}
