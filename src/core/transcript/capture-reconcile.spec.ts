import { CaptureReconciler, type LiveSession } from './capture-reconcile';

const live = (id: string) =>
  ({ id, tmuxName: `mas-${id}`, sessionDir: `/ws/${id}` }) as LiveSession;

describe(CaptureReconciler.name, () => {
  it('counts as refused only attempts that ended without a capture, never one still running', async () => {
    const captured = new Set<string>();
    const outcomes = new Map<string, (ok: boolean) => void>();
    const r = new CaptureReconciler(
      (id) => captured.has(id),
      (s) => new Promise<boolean>((resolve) => outcomes.set(s.id, resolve)),
    );
    r.offer([live('a'), live('b')]);
    // both attaching: a retry listing now would only race them (it once raced a test's read)
    expect(r.refused).toBe(0);
    captured.add('a');
    outcomes.get('a')!(true);
    outcomes.get('b')!(false); // its lock is held elsewhere
    await r.settled();
    expect(r.refused).toBe(1);
    r.offer([live('a')], Date.now() + 10_000); // b is gone from tmux: nothing to retry
    expect(r.refused).toBe(0);
  });
});
