import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { TmuxModule } from '../tmux/tmux.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { RestoreService } from './restore.service';
import { OutputController } from './output.controller';
import { OutputService } from './output.service';
import { ScreenController } from './screen.controller';
import { ScreenService } from './screen.service';
import { StopService } from './stop.service';
import { SessionService } from './session.service';
import { SessionsController } from './sessions.controller';
import { StatusController } from './status.controller';
import { StatusService } from './status.service';

/** Read, connect, stop and restore sessions, an agent's screen, and the legacy /status summary. */
@Module({
  imports: [CoreModule, TmuxModule, WorkspaceModule],
  controllers: [SessionsController, StatusController, ScreenController, OutputController],
  providers: [
    SessionService,
    StopService,
    RestoreService,
    StatusService,
    ScreenService,
    OutputService,
  ],
})
export class SessionsModule {}
