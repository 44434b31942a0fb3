import { Logger } from '@nestjs/common';
import CircuitBreaker from 'opossum';
import { isClientOutcome } from './tmux.errors';

export interface BreakerOptions {
  resetTimeoutMs: number;
  rollingWindowMs: number;
  volumeThreshold: number;
  errorThresholdPercentage: number;
}

/** The one source of the breaker defaults (design §5); env overrides them in parse-env. */
export const DEFAULT_BREAKER: BreakerOptions = {
  resetTimeoutMs: 15_000,
  rollingWindowMs: 30_000,
  volumeThreshold: 5,
  errorThresholdPercentage: 50,
};

/**
 * Builds the one breaker of a tmux socket (contract R5). Outcomes where tmux answered
 * (not found, duplicate, no server, our own bugs) are filtered: they count as successes, so a
 * hostile client cannot open the circuit for everyone. No `capacity` and no `cache`: the limiter
 * and the session cache do those jobs.
 */
export function createTmuxBreaker<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  opts: BreakerOptions = DEFAULT_BREAKER,
): CircuitBreaker<A, R> {
  const logger = new Logger('TmuxBreaker');
  const breaker = new CircuitBreaker(action, {
    timeout: 6000, // backstop just above the runner's own 5 s kill (T-50)
    resetTimeout: opts.resetTimeoutMs,
    rollingCountTimeout: opts.rollingWindowMs,
    rollingCountBuckets: 10,
    volumeThreshold: opts.volumeThreshold,
    errorThresholdPercentage: opts.errorThresholdPercentage,
    errorFilter: (err: unknown) => isClientOutcome(err),
  });
  breaker.on('open', () => logger.warn('circuit open: tmux calls fail fast'));
  breaker.on('halfOpen', () => logger.log('circuit half-open: next call is a trial'));
  breaker.on('close', () => logger.log('circuit closed'));
  return breaker;
}
