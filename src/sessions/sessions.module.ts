import { Module } from '@nestjs/common';
import { DeliveryService } from '../core/delivery.service';
import { MessageService } from '../messages/message.service';
import { MessagesController } from '../messages/messages.controller';
import { IdempotencyService } from '../core/idempotency.service';
import { RunService } from '../runs/run.service';
import { RunsController } from '../runs/runs.controller';
import { StartupJob } from '../runs/startup.job';
import { RootController } from '../root.controller';
import { TmuxModule } from '../tmux/tmux.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { LifecycleService } from './lifecycle.service';
import { SessionCache } from '../core/session-cache';
import { SessionService } from './session.service';
import { SessionState } from '../core/session-state';
import { SessionsController } from './sessions.controller';
import { StatusService } from './status.service';

/**
 * Sessions, runs and messages share one snapshot, one cache generation, one lock table and one
 * delivery path, so they live in one module (see docs/decisions/0002-one-sessions-module.md).
 */
@Module({
  imports: [TmuxModule, WorkspaceModule],
  controllers: [RootController, SessionsController, RunsController, MessagesController],
  providers: [
    SessionService,
    SessionState,
    SessionCache,
    LifecycleService,
    StatusService,
    RunService,
    StartupJob,
    DeliveryService,
    MessageService,
    IdempotencyService,
  ],
})
export class SessionsModule {}
