import { Module } from '@nestjs/common';
import { TmuxModule } from '../tmux/tmux.module';
import { WorkspaceModule } from '../workspace/workspace.module';
import { DeliveryService } from './delivery.service';
import { EventBus } from './event-bus';
import { IdempotencyService } from './idempotency.service';
import { SessionCache } from './session-cache';
import { SessionState } from './session-state';
import { SessionStore } from './session-store';
import { SessionWatcher } from './session-watcher';
import { CaptureService } from './transcript/capture.service';
import { OutputFeed } from './transcript/output-feed';
import { TranscriptStartup } from './transcript/transcript-startup';

/**
 * The read model and what every write shares: one snapshot cache and generation, one in-memory
 * state with the per-session locks, one delivery path, one idempotency store, and the event bus
 * with its watcher (§10.3, §10.6). Feature modules
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
    EventBus,
    SessionWatcher,
    CaptureService,
    OutputFeed,
    TranscriptStartup,
  ],
  exports: [
    SessionStore,
    SessionState,
    DeliveryService,
    IdempotencyService,
    EventBus,
    SessionWatcher,
    CaptureService,
  ],
})
export class CoreModule {}
