import type { Logger } from '@nestjs/common';
import type { TmuxGateway } from '../../tmux/tmux.gateway';
import type { TmuxTree } from '../../tmux/tmux.types';
import { CaptureClient, type CaptureEnd } from './capture-client';
import type { SessionCapture } from './capture-session';

const START_TIMEOUT_MS = 5000;
/** Re-attach delays: 0.25 s doubling up to 5 s; a client that stayed this long starts them over. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

/**
 * Keeps a capture client attached to each captured session while it lives (§10.2). A client that
 * ends unasked (killed, `detach-client`, dropped as too far behind, T-72) is replaced after a
 * bounded backoff, but only once a listing shows the very same session still there (A1, A15): gone,
 * on another server, or tagged for another owner means give up. Stopped captures never attach again.
 */
export class CaptureAttacher {
  constructor(
    private readonly tmux: TmuxGateway,
    private readonly workspace: string,
    private readonly logger: Logger,
    /** The capture's session has gone (or is not ours): the service forgets it. */
    private readonly gone: (c: SessionCapture) => void,
  ) {}

  /** Attaches a client; true once tmux acknowledged it. On failure a re-attach is due. */
  async connect(c: SessionCapture): Promise<boolean> {
    let proc: ReturnType<TmuxGateway['openCapture']>;
    try {
      proc = this.tmux.openCapture(c.to.target);
      if (!proc) {
        this.gone(c); // a runner without control clients: there is nothing to retry
        return false;
      }
    } catch (e) {
      // no pipes (EMFILE): the session works without a transcript for now rather than failing
      this.logger.warn(`no capture client for ${c.to.sessionId}: ${String(e)}`);
      this.lost(c);
      return false;
    }
    const client: CaptureClient = new CaptureClient(
      proc,
      (pane, bytes) => c.output(pane, bytes),
      (why) => this.ended(c, client, why),
      START_TIMEOUT_MS,
      c.pipes !== undefined,
    );
    c.client = client;
    c.startedAt = Date.now();
    if (client.name) this.tmux.captureNames.add(client.name);
    const ok = await client.ready;
    // a slow acknowledgement does not stop a client that still runs: it captures from now on
    if (c.client === client) c.closeGap();
    if (!ok) this.logger.warn(`capture client for ${c.to.sessionId} did not attach`);
    return ok;
  }

  private ended(c: SessionCapture, client: CaptureClient, why: CaptureEnd): void {
    const name = client.name;
    // tmux may list the client a moment after it left (A15): keep subtracting it for a second
    if (name) setTimeout(() => this.tmux.captureNames.delete(name), 1000).unref();
    if (c.client !== client) return;
    c.client = undefined;
    if (why === 'closed' || c.stopped) return c.finish();
    if (Date.now() - c.startedAt >= MAX_RETRY_MS) c.retries = 0;
    this.lost(c);
  }

  /** Nothing is captured from now on: try again later, unless the capture was stopped. */
  private lost(c: SessionCapture): void {
    c.lostAt ??= new Date();
    if (c.stopped) return c.finish();
    const delay = Math.min(FIRST_RETRY_MS * 2 ** Math.min(c.retries++, 8), MAX_RETRY_MS);
    c.timer = setTimeout(() => void this.again(c), delay);
    c.timer.unref();
  }

  private async again(c: SessionCapture): Promise<void> {
    c.timer = undefined;
    let tree: TmuxTree | undefined;
    try {
      tree = await this.tmux.listSession(c.to.tmuxName, true);
    } catch (e) {
      this.logger.warn(`capture of ${c.to.sessionId}: tmux did not answer (${String(e)})`);
    }
    if (c.stopped) return c.finish();
    if (!tree) return this.lost(c);
    if (!c.stillHere(tree, this.workspace)) {
      this.logger.log(`capture of ${c.to.sessionId} ends: its session ${c.to.target} is gone`);
      return this.gone(c);
    }
    await this.connect(c);
  }
}
