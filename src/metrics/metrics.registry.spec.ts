import { createMasRegistry, type Population, type ScrapeSources } from './metrics.registry';
import { routeLabel } from './route-label';

function sources(over: Partial<ScrapeSources> = {}): ScrapeSources {
  return {
    breakerState: () => 0,
    cacheLookups: () => ({ hit: 0, miss: 0 }),
    population: () => undefined,
    ...over,
  };
}

const line = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('metrics registry (§10.5)', () => {
  it('reads the breaker at scrape: 0 closed, 1 half-open, 2 open', async () => {
    let state = 2;
    const m = createMasRegistry(sources({ breakerState: () => state }));
    expect(line(await m.registry.metrics(), 'mas_breaker_state ')).toEqual(['mas_breaker_state 2']);
    state = 1;
    expect(line(await m.registry.metrics(), 'mas_breaker_state ')).toEqual(['mas_breaker_state 1']);
  });

  it('mirrors the cache counts, both results from the first scrape', async () => {
    const m = createMasRegistry(sources({ cacheLookups: () => ({ hit: 3, miss: 1 }) }));
    expect(line(await m.registry.metrics(), 'mas_cache_requests_total{')).toEqual([
      'mas_cache_requests_total{result="hit"} 3',
      'mas_cache_requests_total{result="miss"} 1',
    ]);
  });

  it('keeps the last population while no snapshot is cached', async () => {
    let pop: Population | undefined = {
      sessions: new Map([
        ['active', 1],
        ['inactive', 0],
      ]),
      agents: new Map([['running unknown', 13]]),
    };
    const m = createMasRegistry(sources({ population: () => pop }));
    const first = await m.registry.metrics();
    expect(line(first, 'mas_sessions{')).toEqual([
      'mas_sessions{status="active"} 1',
      'mas_sessions{status="inactive"} 0',
    ]);
    expect(line(first, 'mas_agents{')).toEqual([
      'mas_agents{status="running",activity="unknown"} 13',
    ]);
    pop = undefined;
    const second = await m.registry.metrics();
    expect(line(second, 'mas_sessions{')).toEqual(line(first, 'mas_sessions{'));
    expect(line(second, 'mas_agents{')).toEqual(line(first, 'mas_agents{'));
  });

  it('two registries share nothing', async () => {
    const a = createMasRegistry(sources());
    const b = createMasRegistry(sources());
    a.httpRequests.inc({ route: '/health', method: 'GET', status: '200' });
    expect(await b.registry.metrics()).not.toContain('route="/health"');
    expect(await a.registry.metrics()).toContain(
      'mas_http_requests_total{route="/health",method="GET",status="200"} 1',
    );
  });
});

describe('routeLabel', () => {
  const req = (url: string, template?: string) => ({
    url,
    routeOptions: { url: template } as never,
  });

  it('is the matched template, the /session alias folded into /sessions', () => {
    expect(routeLabel(req('/sessions/abc', '/sessions/:sessionId'))).toBe('/sessions/:sessionId');
    expect(routeLabel(req('/session/abc/stop', '/session/:sessionId/stop'))).toBe(
      '/sessions/:sessionId/stop',
    );
    expect(routeLabel(req('/session', '/session'))).toBe('/sessions');
    expect(routeLabel(req('/sessions?x=1', '/sessions'))).toBe('/sessions');
  });

  it('is unmatched without a route or with an empty segment', () => {
    expect(routeLabel(req('/nope'))).toBe('unmatched');
    expect(routeLabel(req('/sessions//stop', '/sessions/:sessionId/stop'))).toBe('unmatched');
  });
});
