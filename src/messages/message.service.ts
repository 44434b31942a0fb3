import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { ConflictError, NotFoundError, RequestRejectedError, TmuxError } from '../errors/mas-error';
import { EventBus } from '../core/event-bus';
import { SessionStore } from '../core/session-store';
import type { KnownSession } from '../core/snapshot';
import type { MessageResponse } from './dto/message.dto';
import { DeliveryService, type DeliveryTarget, type Receipt } from '../core/delivery.service';
import type { MessageRequest } from './dto/message-request';
import { expandTarget } from './message-target';

const MAX_BYTES = 65_536;

/** POST /message (contract §4.10). */
@Injectable()
export class MessageService {
  private readonly logger = new Logger('Messages');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly sessions: SessionStore,
    private readonly delivery: DeliveryService,
    private readonly bus: EventBus,
  ) {}

  /** `requestId` names the request in the `message` event (§10.3). */
  async send(req: MessageRequest, requestId?: string): Promise<MessageResponse> {
    const { text, execute } = req;
    if (Buffer.byteLength(text) > MAX_BYTES)
      throw new RequestRejectedError('PAYLOAD_TOO_LARGE', 'Message is larger than 64 KiB', {
        field: 'message',
        limitBytes: MAX_BYTES,
      });

    const first = await this.sessions.findLiveForWrite(req.sessionRef);
    const state = this.sessions.state;
    if (state.restoring.has(first.id))
      throw new ConflictError('RESTORE_IN_PROGRESS', 'Session is being restored', {
        sessionId: first.id,
      });
    if (state.isStarting(first.id))
      throw new ConflictError(
        'SESSION_STARTING',
        'Initial prompts are still being typed',
        { sessionId: first.id },
        2,
      );
    if (!first.tmux)
      throw new ConflictError('SESSION_TERMINATED', 'Session is not running', {
        sessionId: first.id,
        restorable: first.source === 'workspace' && first.record?.session != null,
      });

    const t0 = Date.now();
    // The text loads before the lock and while the session is re-read: the lock is held for less,
    // and the two tmux calls overlap. A load nobody uses is deleted (§7.6 step 3).
    const loaded = this.delivery.load(text);
    let used = false;
    let receipts: { k: KnownSession; list: Receipt[] };
    try {
      receipts = await state.withLock(first.id, async () => {
        const k = await this.sessions.freshOrThrow(first);
        if (!k.tmux)
          throw new ConflictError('SESSION_TERMINATED', 'Session is not running', {
            sessionId: k.id,
            restorable: true,
          });
        const { ids } = expandTarget(req.targets, k.roster);
        const out = new Map<string, Receipt>();
        const deliverable: DeliveryTarget[] = [];
        for (const id of ids) {
          const a = k.agents.find((x) => x.agentId === id);
          if (!a || !k.roster.includes(id))
            out.set(id, {
              agentId: id,
              window: null,
              pane: null,
              status: 'not_found',
              reason: 'NOT_IN_ROSTER',
            });
          else if (a.status !== 'running' || !a.paneId)
            out.set(id, {
              agentId: id,
              window: a.window,
              pane: a.pane,
              status: 'not_running',
              reason: a.reason,
            });
          else
            deliverable.push({
              agentId: id,
              paneId: a.paneId,
              window: a.window,
              pane: a.pane,
              inMode: Boolean(a.inMode),
            });
        }
        used = deliverable.length > 0;
        if (used)
          for (const r of await this.delivery.deliver(deliverable, loaded, execute, k.tmux.id))
            out.set(r.agentId, r);
        return this.afterDelivery(k, ids, out, deliverable, execute);
      });
    } finally {
      if (!used) this.delivery.discard(loaded);
    }
    this.logger.log(
      `message to ${receipts.k.tmuxName}: ${receipts.list.length} agent(s), ${text.length} chars, sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 12)}, ${Date.now() - t0}ms`,
    );
    // every delivery attempt is told, whatever status the receipts give the answer (§10.3)
    this.bus.publish(
      'message',
      { sessionId: receipts.k.id, requestId: requestId ?? null, receipts: receipts.list },
      receipts.k.id,
    );
    return this.answer(receipts.k, receipts.list, req.target, req.message, execute);
  }

  /** §7.6 step 5, queued behind this delivery on the session lock; then the receipts in target order. */
  private afterDelivery(
    k: KnownSession,
    ids: string[],
    out: Map<string, Receipt>,
    deliverable: DeliveryTarget[],
    execute: boolean,
  ) {
    if (this.cfg.sendEof && execute) {
      const done = deliverable.filter((d) => out.get(d.agentId)?.status === 'delivered');
      if (done.length)
        void this.sessions.state
          .withLock(k.id, () => this.delivery.sendEof(done))
          .catch(() => undefined);
    }
    return { k, list: ids.map((id) => out.get(id)!) };
  }

  /** The receipts → status table of §4.10. */
  private answer(
    k: { id: string; tmuxName: string },
    receipts: Receipt[],
    target: string,
    message: string,
    execute: boolean,
  ): MessageResponse {
    const delivered = receipts.filter((r) => r.status === 'delivered').length;
    const details = { sessionId: k.id, receipts };
    if (receipts.some((r) => r.status === 'unknown'))
      throw new TmuxError(
        'TMUX_TIMEOUT',
        'tmux did not answer in time; some agents may have received the message',
        { operation: 'message', outcome: 'unknown', receipts },
      );
    if (delivered === 0) {
      if (receipts.every((r) => r.status === 'not_found'))
        throw new NotFoundError(
          'TARGET_NOT_FOUND',
          'No targeted agent exists in the session',
          details,
        );
      if (receipts.some((r) => r.status === 'not_running'))
        throw new ConflictError('AGENT_NOT_RUNNING', 'No targeted agent is running', details);
      throw new TmuxError('TMUX_ERROR', 'tmux refused the delivery', {
        reason: 'delivery_failed',
        receipts,
      });
    }
    return {
      status: delivered === receipts.length ? 'acknowledged' : 'partial',
      timestamp: new Date().toISOString(),
      target,
      session: k.tmuxName,
      sessionId: k.id,
      message,
      execute,
      delivered,
      failed: receipts.length - delivered,
      receipts,
    };
  }
}
