import { ApiProperty } from '@nestjs/swagger';
import {
  ACTIVITIES,
  AGENT_STATUSES,
  type Activity,
  type AgentState,
} from '../../domain/vocabulary';
import { QueryEnum, QueryInt } from '../../common/validation/field.decorators';

/** Most history lines one screen read may ask for (§10.1). */
export const MAX_SCREEN_HISTORY = 2000;

/** GET …/agents/:agentId/screen (§10.1): integers as digits only, booleans as the two words. */
export class ScreenQuery {
  @QueryInt(0, MAX_SCREEN_HISTORY, 0)
  lines = 0;

  @QueryEnum(['true', 'false'], 'false')
  ansi: 'true' | 'false' = 'false';
}

export class ScreenCursor {
  @ApiProperty({ example: 2, description: 'Column, 0 = leftmost' }) x!: number;
  @ApiProperty({ example: 5, description: 'Row on the visible screen, 0 = its top row' })
  y!: number;
}

export class AgentScreen {
  @ApiProperty({ example: 'ebef3e29-0b76-4071-ad8d-d5d075397ec3' }) sessionId!: string;
  @ApiProperty({ example: '10', pattern: '^[0-9]{2}$' }) agentId!: string;
  @ApiProperty({ example: '%12', description: 'The tmux pane id read' }) paneId!: string;
  @ApiProperty({ enum: AGENT_STATUSES, description: '§5.4' }) status!: AgentState;
  @ApiProperty({
    enum: ACTIVITIES,
    description:
      '§10.4: `working` (output within MAS_ACTIVITY_IDLE_MS), `idle`, or `unknown` (not observed)',
  })
  activity!: Activity;
  @ApiProperty({ example: 200 }) width!: number;
  @ApiProperty({ example: 50 }) height!: number;
  @ApiProperty({ type: ScreenCursor }) cursor!: ScreenCursor;
  @ApiProperty({
    example: 0,
    description: 'How many of `lines` are history above the visible screen (≤ the lines asked)',
  })
  history!: number;
  @ApiProperty({
    type: [String],
    example: ['$ echo hello', 'hello', '$'],
    description:
      'Top to bottom: `history` history lines, then the visible rows. Wrapped lines are joined, ' +
      'so the visible rows may be fewer than `height`; trailing blank lines are trimmed',
  })
  lines!: string[];
  @ApiProperty({ example: false, description: 'Whether colour and attribute escapes were kept' })
  ansi!: boolean;
  @ApiProperty({ format: 'date-time' }) capturedAt!: string;
}
