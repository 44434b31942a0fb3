import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; HTTP answers range from sub-millisecond cache hits to multi-second creates. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; a control line takes ~10 ms, a fork at 200 sessions 50-300 ms, the kill comes at 5 s. */
const TMUX_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Counts of the newest cached snapshot, by label values. */
export interface Population {
  sessions: Map<string, number>;
  /** Keyed by `status` and `activity` joined with a space. */
  agents: Map<string, number>;
}

/** What the scrape-time series read; none of these may cost a tmux call. */
export interface ScrapeSources {
  /** 0 closed, 1 half-open, 2 open. */
  breakerState(): number;
  cacheLookups(): Readonly<{ hit: number; miss: number }>;
  /** Undefined while no snapshot is cached: the gauges then keep their last values. */
  population(): Population | undefined;
  /** Open `/events` streams and events not delivered, by reason, since start (§10.3). */
  events?(): { clients: number; dropped: ReadonlyMap<string, number> };
}

/**
 * The series of contract §10.5 on a registry of their own: one per app instance, never prom-client's
 * global default registry, so two apps in one process (the e2e suites) never share a counter.
 * Series that describe state rather than events are computed at scrape time from `src`.
 */
export function createMasRegistry(src: ScrapeSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'mas_http_requests_total',
      help: 'HTTP answers by matched route template (or unmatched), method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'mas_http_request_duration_seconds',
      help: 'HTTP request duration by matched route template (or unmatched) and method',
      labelNames: ['route', 'method'] as const,
      buckets: HTTP_BUCKETS,
      registers,
    }),
    tmuxCalls: new Counter({
      name: 'mas_tmux_calls_total',
      help: 'tmux calls by subcommand, path (fork or control) and outcome (ok, error, timeout)',
      labelNames: ['command', 'path', 'outcome'] as const,
      registers,
    }),
    tmuxDuration: new Histogram({
      name: 'mas_tmux_call_duration_seconds',
      help: 'tmux call duration by subcommand and path (fork or control)',
      labelNames: ['command', 'path'] as const,
      buckets: TMUX_BUCKETS,
      registers,
    }),
    breakerState: new Gauge({
      name: 'mas_breaker_state',
      help: 'tmux circuit breaker: 0 closed, 1 half-open, 2 open',
      registers,
      collect() {
        this.set(src.breakerState());
      },
    }),
    cacheRequests: new Counter({
      name: 'mas_cache_requests_total',
      help: 'Session snapshot cache lookups by result (hit, miss)',
      labelNames: ['result'] as const,
      registers,
      // the cache counts; the counter mirrors it, so both results show from the first scrape
      collect() {
        const n = src.cacheLookups();
        this.reset();
        this.inc({ result: 'hit' }, n.hit);
        this.inc({ result: 'miss' }, n.miss);
      },
    }),
    sessions: new Gauge({
      name: 'mas_sessions',
      help: 'Sessions by status in the snapshot a list reads (kept at the last value while tmux cannot be listed)',
      labelNames: ['status'] as const,
      registers,
      collect() {
        const p = src.population();
        if (!p) return;
        this.reset();
        for (const [status, n] of p.sessions) this.set({ status }, n);
      },
    }),
    agents: new Gauge({
      name: 'mas_agents',
      help: 'Agents by status and activity in the snapshot a list reads (kept at the last value while tmux cannot be listed)',
      labelNames: ['status', 'activity'] as const,
      registers,
      collect() {
        const p = src.population();
        if (!p) return;
        this.reset();
        for (const [key, n] of p.agents) {
          const [status, activity] = key.split(' ');
          this.set({ status, activity }, n);
        }
      },
    }),
    // Output capture (§10.2) does not exist yet: mas_output_bytes_total stays 0 until it lands.
    eventsClients: new Gauge({
      name: 'mas_events_clients',
      help: 'Open /events streams',
      registers,
      collect() {
        this.set(src.events?.().clients ?? 0);
      },
    }),
    eventsDropped: new Counter({
      name: 'mas_events_dropped_total',
      help: 'Events not delivered to a stream client, by reason (slow_consumer: the client was disconnected)',
      labelNames: ['reason'] as const,
      registers,
      // the bus counts; the series mirrors its totals at scrape
      collect() {
        const dropped = src.events?.().dropped;
        if (!dropped?.size) return;
        this.reset();
        for (const [reason, n] of dropped) this.inc({ reason }, n);
      },
    }),
    outputBytes: new Counter({
      name: 'mas_output_bytes_total',
      help: 'Pane output bytes captured to transcripts (§10.2)',
      registers,
    }),
  };
}

export type MasRegistry = ReturnType<typeof createMasRegistry>;
