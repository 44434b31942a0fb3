import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Receipt } from './dto/receipt.dto';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { MasError, TmuxError } from '../errors/mas-error';
import { TmuxGateway } from '../tmux/tmux.gateway';

export interface DeliveryTarget {
  agentId: string;
  paneId: string;
  window: string | null;
  pane: number | null;
  inMode: boolean;
}

/** A loaded buffer (§7.6 step 1), or why loading failed. */
export interface Loaded {
  buffer: string;
  failure?: unknown;
}

export type { Receipt };

const isTimeout = (e: unknown) => e instanceof MasError && e.code === 'TMUX_TIMEOUT';

/** The one error→receipt mapping: a timeout may have typed (unknown, T-51), anything else failed. */
export function failureReceipt(e: unknown): { status: 'unknown' | 'failed'; reason: string } {
  if (isTimeout(e)) return { status: 'unknown', reason: 'TMUX_TIMEOUT' };
  return { status: 'failed', reason: e instanceof MasError ? e.code : 'TMUX_ERROR' };
}

/**
 * Message delivery of contract §7.6, shared by /message and the prompts of /runs. Text reaches
 * tmux only on load-buffer's stdin (T-41), pastes go to pane ids, nothing is ever retried (T-51).
 * Callers hold the session's write lock.
 */
@Injectable()
export class DeliveryService {
  private readonly logger = new Logger('Delivery');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly tmux: TmuxGateway,
  ) {}

  /**
   * Step 1 of §7.6 on its own, so a caller can start it while it still reads the session: the text
   * goes to tmux on stdin into a fresh buffer. Never rejects; a failure travels with the result.
   */
  async load(text: string): Promise<Loaded> {
    const buffer = `mas-${randomUUID()}`;
    try {
      await this.tmux.loadBuffer(buffer, text);
      return { buffer };
    } catch (failure) {
      return { buffer, failure };
    }
  }

  /**
   * Step 3 for a load that was never used (no deliverable target, or the request failed), and for
   * one that failed: a load that timed out may still have run (T-51). "No buffer" counts as done.
   */
  discard(loaded: Promise<Loaded>): void {
    void loaded
      .then((l) => this.tmux.deleteBuffer(l.buffer))
      .catch((e) => this.logger.warn(`buffer not deleted: ${String(e)}`));
  }

  /** `session` (the `$id` the panes belong to) is where a control client attaches if none runs. */
  async deliver(
    targets: DeliveryTarget[],
    text: string | Promise<Loaded>,
    execute: boolean,
    session?: string,
  ): Promise<Receipt[]> {
    const receipts = new Map<string, Receipt>(
      targets.map((t) => [
        t.agentId,
        { agentId: t.agentId, window: t.window, pane: t.pane, status: 'not_attempted' },
      ]),
    );
    const loading = typeof text === 'string' ? this.load(text) : text;
    const { buffer, failure } = await loading;
    if (failure) {
      this.discard(loading);
      if (isTimeout(failure)) throw TmuxError.timeout('load-buffer', 'none');
      for (const r of receipts.values())
        Object.assign(r, { status: 'failed', reason: 'TMUX_ERROR' });
      return [...receipts.values()];
    }
    const pasted: DeliveryTarget[] = [];
    let stopped = false;
    let deleted: Promise<unknown> = Promise.resolve();
    try {
      let rest = targets;
      while (rest.length && !stopped) {
        let out: { failedPane?: string; error?: MasError };
        try {
          out = await this.tmux.pasteMany(buffer, rest, session);
        } catch (e) {
          // one client carried every paste of this round: a timeout leaves all of them unknown (T-51)
          for (const t of rest) Object.assign(receipts.get(t.agentId)!, failureReceipt(e));
          stopped = true;
          break;
        }
        const at = out.failedPane
          ? rest.findIndex((t) => t.paneId === out.failedPane)
          : rest.length;
        for (const t of rest.slice(0, at)) {
          pasted.push(t);
          receipts.get(t.agentId)!.status = execute ? 'not_attempted' : 'delivered';
        }
        if (at < rest.length)
          Object.assign(receipts.get(rest[at].agentId)!, { status: 'failed', reason: 'PANE_GONE' });
        rest = rest.slice(at + 1); // tmux never ran these: a new round is a first attempt, not a retry
      }
    } finally {
      // Off the critical path: the buffer goes while the submit delay runs (a fork saved per message).
      deleted = this.tmux
        .deleteBuffer(buffer)
        .catch((e) => this.logger.warn(`buffer ${buffer} not deleted: ${String(e)}`));
    }
    if (execute && !stopped && pasted.length) await this.submit(pasted, receipts);
    await deleted;
    return [...receipts.values()];
  }

  /**
   * One wait, then a separate Enter per pasted pane: TUIs drop an Enter glued to a paste (T-41).
   * The Enters are independent calls to different panes, so they go out together (bounded by the
   * limiter); each receipt records its own outcome.
   */
  private async submit(pasted: DeliveryTarget[], receipts: Map<string, Receipt>): Promise<void> {
    await sleep(this.cfg.submitDelayMs);
    await Promise.all(
      pasted.map(async (t) => {
        const r = receipts.get(t.agentId)!;
        try {
          await this.tmux.sendKey(t.paneId, 'Enter');
          r.status = 'delivered';
        } catch (e) {
          Object.assign(r, failureReceipt(e));
        }
      }),
    );
  }

  /** Opt-in EOF convention (§7.6 step 5): later, once per pane, skipped if gone, never reported. */
  async sendEof(targets: DeliveryTarget[]): Promise<void> {
    await sleep(this.cfg.eofDelayMs);
    for (const t of targets) {
      try {
        await this.tmux.sendLiteral(t.paneId, 'EOF');
        await this.tmux.sendKey(t.paneId, 'Enter');
      } catch {
        /* pane gone or tmux down: not retried, not reported */
      }
    }
  }
}
