import { ApiProperty } from '@nestjs/swagger';
import { Receipt } from '../../core/dto/receipt.dto';

export class MessageResponse {
  @ApiProperty({ enum: ['acknowledged', 'partial'] }) status!: 'acknowledged' | 'partial';
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ example: 'agent-10,workers' }) target!: string;
  @ApiProperty({ example: 'mas-ebef3e29' }) session!: string;
  @ApiProperty({ example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' }) sessionId!: string;
  @ApiProperty({ example: 'Please review the API draft.' }) message!: string;
  @ApiProperty() execute!: boolean;
  @ApiProperty({ example: 2 }) delivered!: number;
  @ApiProperty({ example: 0 }) failed!: number;
  @ApiProperty({ type: [Receipt] }) receipts!: Receipt[];
}
