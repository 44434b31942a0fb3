import type { RunOptions, RunResult, TmuxRunner } from '../../src/tmux/tmux-runner';

/**
 * A strict scripted runner for unit specs: records every argv (and stdin) and replays the result the
 * script gives. Only for failures a real tmux cannot produce on demand; e2e specs use real tmux.
 */
export class ScriptedRunner implements TmuxRunner {
  calls: string[][] = [];
  inputs: (string | undefined)[] = [];

  constructor(private readonly reply: (args: string[], n: number) => Partial<RunResult>) {}

  async run(args: string[], opts?: RunOptions): Promise<RunResult> {
    this.calls.push(args);
    this.inputs.push(opts?.input);
    return {
      exitCode: 0,
      stdout: '',
      stderr: '',
      timedOut: false,
      overflow: false,
      durationMs: 1,
      ...this.reply(args, this.calls.length),
    };
  }

  killAll(): void {}
}
