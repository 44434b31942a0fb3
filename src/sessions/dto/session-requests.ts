import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Matches } from 'class-validator';
import { IfPresent, StrictBoolean } from '../../common/validation/field.decorators';

const WINDOW = /^[A-Za-z0-9_-]{1,32}$/;
const WINDOW_MESSAGE = 'must match ^[A-Za-z0-9_-]{1,32}$';

/** POST /sessions/:sessionId/connect (§4.6). */
export class ConnectRequest {
  @StrictBoolean('Accepted, no effect', false)
  reconnect = false;

  @ApiPropertyOptional({
    pattern: WINDOW.source,
    example: 'unit1',
    description: 'Window name, legacy alias or index',
  })
  @IfPresent()
  @IsString({ message: WINDOW_MESSAGE })
  @Matches(WINDOW, { message: WINDOW_MESSAGE })
  window?: string;
}

/** POST /sessions/:sessionId/stop (§4.7). */
export class StopRequest {
  @StrictBoolean('Skip the graceful phase', false)
  force = false;
}

/** POST /sessions/:sessionId/restore (§4.8). */
export class RestoreRequest {
  @StrictBoolean('Start the agent command in every pane', false)
  startAgents = false;

  @StrictBoolean('Stop a live session first', false)
  force = false;
}
