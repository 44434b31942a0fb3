import { Module } from '@nestjs/common';
import { TmuxModule } from '../tmux/tmux.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { DeliveryService } from './delivery.service';
import { IdempotencyService } from './idempotency.service';
import { SessionCache } from './session-cache';
import { SessionState } from './session-state';
import { SessionStore } from './session-store';
import { CaptureService } from './transcript/capture.service';
import { TranscriptStartup } from './transcript/transcript-startup';

/**
 * The read model and what every write shares: one snapshot cache and generation, one in-memory
 * state with the per-session locks, one delivery path and one idempotency store. Feature modules
 * import this module, never each other (docs/decisions/0007-feature-modules-around-a-core.md).
 */
@Module({
  imports: [TmuxModule, WorkspaceModule],
  providers: [
    SessionStore,
    SessionCache,
    SessionState,
    DeliveryService,
    IdempotencyService,
    CaptureService,
    TranscriptStartup,
  ],
  exports: [SessionStore, SessionState, DeliveryService, IdempotencyService, CaptureService],
})
export class CoreModule {}
