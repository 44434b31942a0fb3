import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { reportHijacked } from '../common/request-hooks';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { type BusEvent, EventBus } from '../core/event-bus';
import { SessionStore } from '../core/session-store';
import { SessionWatcher } from '../core/session-watcher';
import { StreamLimitError } from '../errors/mas-error';
import type { EventsQuery } from './dto/events.query';
import { EventStream } from './event-stream';

/** What the early onRequest hook would have added through its onSend hook (§2.2). */
const STREAM_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  connection: 'keep-alive',
  // a reverse proxy must pass events through as they come
  'x-accel-buffering': 'no',
};

/**
 * Opens `/events` streams (§10.3): every refusal (400, 404, 503 `STREAM_LIMIT`) is an ordinary
 * error answer; once accepted, the reply is hijacked and events are written to the raw response,
 * with the headers the request hooks already set on the reply (request id, nosniff, CORS).
 */
@Injectable()
export class EventsService implements OnModuleDestroy {
  private open = 0;

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly bus: EventBus,
    private readonly store: SessionStore,
    private readonly watcher: SessionWatcher,
    private readonly adapter: HttpAdapterHost,
  ) {}

  get clients(): number {
    return this.open;
  }

  async stream(req: FastifyRequest, reply: FastifyReply, q: EventsQuery): Promise<void> {
    if (this.open >= this.cfg.eventsMaxClients)
      throw new StreamLimitError(this.cfg.eventsMaxClients);
    const ref = q.ref;
    // a terminated session is allowed (§10.3): its stream carries what happens to it next
    const sessionId = ref ? (await this.store.find(ref)).id : undefined;
    if (this.open >= this.cfg.eventsMaxClients)
      throw new StreamLimitError(this.cfg.eventsMaxClients);
    this.open++;
    const s = new EventStream(reply.raw, this.bus, { types: q.typeSet, sessionId }, () => {
      this.open--;
      // one log line (R11) and the HTTP metrics, when the stream ends
      reportHijacked(this.adapter.httpAdapter.getInstance<FastifyInstance>(), req, reply);
    });
    try {
      await this.watcher.ensure();
    } catch (e) {
      this.open--;
      throw e;
    }
    reply.hijack();
    reply.raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      ...STREAM_HEADERS,
    });
    const backlog = [': stream open\n\n', ...this.resumeFrames(req.headers['last-event-id'])];
    s.start(backlog);
  }

  /**
   * A `Last-Event-ID` inside the ring replays what followed, with a `gap` `expired` per agent for
   * output no longer held (the range to fetch from /output); else one `gap` says why not (§10.3).
   * The stream filters the replay as it filters live events.
   */
  private resumeFrames(header: string | string[] | undefined): Array<string | BusEvent> {
    if (header === undefined) return [];
    const r = this.bus.resume(Array.isArray(header) ? header[0] : header);
    if ('gap' in r) return [this.bus.gapFrame(r.gap)];
    return r.events;
  }

  /** App close (tests, A12 via main.ts before it): every stream ends with its `gap` `shutdown`. */
  onModuleDestroy(): void {
    this.bus.shutdown();
  }
}
