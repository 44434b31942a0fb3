import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SessionStore } from '../session-store';
import { CaptureService } from './capture.service';

/**
 * At service start, capture resumes for every live workspace session (§10.2). What the agents printed
 * while no service ran is lost to us: each transcript records a gap from its last captured byte.
 * Runs in the background so a slow tmux cannot hold up the start.
 */
@Injectable()
export class TranscriptStartup implements OnApplicationBootstrap {
  private readonly logger = new Logger('Capture');
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
  }

  private async resume(): Promise<void> {
    const snap = await this.store.snapshot(true);
    for (const k of snap.sessions) {
      if (k.source !== 'workspace' || !k.tmux || this.capture.isCapturing(k.id)) continue;
      // a slow acknowledgement (a busy server) does not stop the client: learn the panes anyway
      await this.capture.attach(k.id, k.tmux.id, k.tmuxName, k.workingDir, new Date(k.startedAt));
      this.capture.learn(k.id, { sessions: [k.tmux] });
    }
  }
}
