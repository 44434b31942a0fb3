import type { MasConfig } from '../config/mas-config';
import { ScriptedRunner } from '../../test/support/scripted-runner';
import { TmuxGateway } from '../tmux/tmux.gateway';
import { DeliveryService, type DeliveryTarget } from './delivery.service';

// The real gateway over a scripted runner: a pane vanishing between the snapshot and the paste, or a
// tmux that stops answering mid-message, cannot be produced on demand with a real server.
const targets: DeliveryTarget[] = ['10', '11', '12', '13'].map((id, i) => ({
  agentId: id,
  paneId: `%${i + 1}`,
  window: 'unit1',
  pane: i,
  inMode: false,
}));
const cfg = { submitDelayMs: 0 } as MasConfig;

describe(DeliveryService.name, () => {
  let gateway: TmuxGateway;
  afterEach(() => gateway.onModuleDestroy());

  it('a pane gone mid-chain fails alone; panes tmux never reached get their first attempt; nothing is pasted twice', async () => {
    let pasteRounds = 0;
    const runner = new ScriptedRunner((args) =>
      args[0] === 'paste-buffer' && ++pasteRounds === 1
        ? { exitCode: 1, stderr: "can't find pane: %2\n" }
        : {},
    );
    gateway = new TmuxGateway(runner);
    const receipts = await new DeliveryService(cfg, gateway).deliver(targets, 'hello', true);
    expect(receipts.map((r) => r.status)).toEqual([
      'delivered',
      'failed',
      'delivered',
      'delivered',
    ]);
    const pastes = runner.calls
      .filter((c) => c[0] === 'paste-buffer')
      .map((c) => c.filter((a) => a.startsWith('%')));
    expect(pastes).toEqual([
      ['%1', '%2', '%3', '%4'],
      ['%3', '%4'],
    ]);
    const enters = runner.calls
      .filter((c) => c.includes('send-keys'))
      .map((c) => c[c.indexOf('send-keys') + 2]);
    expect(enters.sort()).toEqual(['%1', '%3', '%4']);
    expect(runner.calls.filter((c) => c[0] === 'load-buffer')).toHaveLength(1);
    expect(runner.calls.some((c) => c[0] === 'delete-buffer')).toBe(true);
  });

  it('a paste timeout makes every receipt of that round unknown and sends no Enter', async () => {
    const runner = new ScriptedRunner((args) =>
      args[0] === 'paste-buffer' ? { timedOut: true, exitCode: 0 } : {},
    );
    gateway = new TmuxGateway(runner);
    const receipts = await new DeliveryService(cfg, gateway).deliver(targets, 'hello', true);
    expect(receipts.every((r) => r.status === 'unknown')).toBe(true);
    expect(runner.calls.filter((c) => c[0] === 'send-keys')).toHaveLength(0);
    expect(runner.calls.filter((c) => c[0] === 'paste-buffer')).toHaveLength(1);
  });

  it('text never reaches argv: it is the stdin of load-buffer', async () => {
    const runner = new ScriptedRunner(() => ({}));
    gateway = new TmuxGateway(runner);
    await new DeliveryService(cfg, gateway).deliver(targets, 'secret; -R #(id)', false);
    expect(runner.calls.flat().join(' ')).not.toContain('secret');
    expect(runner.inputs).toContain('secret; -R #(id)');
  });
});
