import { Limiter } from './limiter';

describe(Limiter.name, () => {
  it('runs at most `max` at once, queues up to `maxQueued`, and refuses the rest with 503 busy', async () => {
    const sut = new Limiter(2, 3);
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const task = () =>
      sut.run(async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
      });
    const accepted = Array.from({ length: 5 }, task);
    await expect(task()).rejects.toMatchObject({
      code: 'TMUX_UNAVAILABLE',
      details: { reason: 'busy' },
    });
    while (gates.length || running) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    await Promise.all(accepted);
    expect(peak).toBe(2);
  });

  it('releases its slot when the task throws', async () => {
    const sut = new Limiter(1, 0);
    await expect(
      sut.run(async () => {
        throw new Error('x');
      }),
    ).rejects.toThrow('x');
    await expect(sut.run(async () => 42)).resolves.toBe(42);
  });
});
