import { Module } from '@nestjs/common';
import { CoreModule } from '../core/core.module';
import { TmuxModule } from '../tmux/tmux.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { RunService } from './run.service';
import { RunsController } from './runs.controller';
import { StartupJob } from './startup.job';

/** POST /runs and the background phase that types the prompts (§4.9). */
@Module({
  imports: [CoreModule, TmuxModule, WorkspaceModule],
  controllers: [RunsController],
  providers: [RunService, StartupJob],
})
export class RunsModule {}
