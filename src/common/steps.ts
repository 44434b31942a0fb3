import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * Long pure computations (parsing 3,000 panes, joining 200 sessions) are written once as
 * generators that `yield` between slices, then driven either straight through (writes, tests) or
 * with an event-loop turn per slice (the background snapshot), so no request waits behind a 20 ms
 * block: that block was the warm-list p99 at N=200 (docs/PERFORMANCE.md).
 */
export type Steps<T> = Generator<void, T, void>;

export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export async function runStepsYielding<T>(steps: Steps<T>): Promise<T> {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await nextTurn();
  }
}
