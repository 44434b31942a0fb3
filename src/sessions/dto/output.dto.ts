import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { QueryEnum, QueryInt, QueryString } from '../../common/validation/field.decorators';

export const OUTPUT_FORMATS = ['raw', 'text', 'base64'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** GET …/agents/:agentId/output (§10.2). `from` is digits only: offsets pass 2^31. */
export class OutputQuery {
  @ApiPropertyOptional({
    pattern: '^[0-9]{1,15}$',
    description: 'Absolute byte offset to read from; omitted: the tail (the last `limit` bytes)',
  })
  @QueryString()
  @Matches(/^[0-9]{1,15}$/, { message: 'must be a byte offset (1 to 15 digits)' })
  from?: string;

  @QueryInt(1, 1_048_576, 65_536)
  limit = 65_536;

  @QueryEnum(OUTPUT_FORMATS, 'raw')
  format: OutputFormat = 'raw';
}

export class TranscriptGapDto {
  @ApiProperty({ example: 5120, description: 'Offset where bytes may be missing' }) offset!: number;
  @ApiProperty({ format: 'date-time', description: 'Capture stopped (last byte seen)' })
  since!: string;
  @ApiProperty({ format: 'date-time', description: 'Capture resumed' }) until!: string;
}

export class AgentOutput {
  @ApiProperty({ example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' }) sessionId!: string;
  @ApiProperty({ example: '10', pattern: '^[0-9]{2}$' }) agentId!: string;
  @ApiProperty({
    example: 0,
    description: 'Offset this read starts at (moved to a character boundary)',
  })
  from!: number;
  @ApiProperty({ example: 12, description: 'Offset to pass as `from` next; advance only by it' })
  next!: number;
  @ApiProperty({ example: 0, description: 'Oldest offset held' }) start!: number;
  @ApiProperty({ example: 12, description: 'Newest offset held (one past the last byte)' })
  end!: number;
  @ApiProperty({ enum: OUTPUT_FORMATS }) format!: OutputFormat;
  @ApiProperty({
    example: 'hello\r\n$ ',
    description:
      '`raw`: the terminal stream (invalid UTF-8 as U+FFFD); `text`: escapes removed, CRLF → LF; ' +
      '`base64`: the exact bytes',
  })
  data!: string;
  @ApiProperty({ example: false, description: 'True when `from` was older than `start`' })
  truncated!: boolean;
  @ApiProperty({ type: [TranscriptGapDto], description: 'Recorded gaps within [from, next]' })
  gaps!: TranscriptGapDto[];
}
