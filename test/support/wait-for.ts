/** Polls until `check` returns a truthy value; never a fixed sleep. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs = 8000,
  intervalMs = 40,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`waitFor timed out${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
