import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SessionStore } from '../session-store';
import { CaptureService } from './capture.service';
import { RECONCILE_RETRY_MS } from './capture-reconcile';

/**
 * At service start, capture resumes for every live workspace session (§10.2). What the agents printed
 * while no service ran is lost to us: each transcript records a gap from its last captured byte.
 * Runs in the background so a slow tmux cannot hold up the start. Every snapshot offers a capture to
 * sessions without one (SessionStore → CaptureService.reconcile); while some session's capture is
 * refused (another process holds its lock, A14-5), a snapshot is taken every few seconds even when
 * no request asks for one, so the session is captured soon after that process lets go.
 */
@Injectable()
export class TranscriptStartup implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Capture');
  private timer?: NodeJS.Timeout;
  /** Settles when every live session was offered a capture client; tests wait on it. */
  done: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SessionStore,
    private readonly capture: CaptureService,
  ) {}

  onApplicationBootstrap(): void {
    this.done = this.resume().catch((e) =>
      this.logger.warn(`transcript capture not resumed: ${String(e)}`),
    );
    this.timer = setInterval(() => void this.retry(), RECONCILE_RETRY_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  private async resume(): Promise<void> {
    await this.store.snapshot(true); // reconciles: every live workspace session is offered a capture
    await this.capture.reconciled();
  }

  private async retry(): Promise<void> {
    if (!this.capture.refused) return;
    await this.store
      .snapshot()
      .catch((e) => this.logger.warn(`transcript capture retry: ${String(e)}`));
  }
}
