import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import type CircuitBreaker from 'opossum';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { InternalError, MasError, TmuxError, TmuxGoneError } from '../errors/mas-error';
import {
  attachArgs,
  chain,
  createSessionCommands,
  createWindowCommands,
  exactSession,
  KEY_ALLOWLIST,
  packCommands,
  PANE_ID,
  paneScreenCommands,
  type PipeCommands,
  retarget,
  takeCreatedId,
} from './tmux-args';
import { type PaneScreen, parsePaneScreen, screenTemplate } from './pane-screen';
import { isSourceStdin, secretEnvCommands, secretEnvScript, SOURCE_STDIN } from './secret-env';
import { type Call, failedOutput, TmuxCalls } from './tmux-calls';
import type { TmuxControlChannel } from './tmux-control';
import type { TmuxCallObserver } from './tmux-observer';
import {
  MAS_FILTER,
  newNonce,
  RS,
  parseSessionNames,
  parseTree,
  parseTreeYielding,
  sessionTemplate,
  treeTemplate,
  type SessionName,
} from './tmux-format';
import type { ControlProcess, RunResult, TmuxRunner } from './tmux-runner';
import { isNoServer } from './tmux.errors';
import { TMUX_RUNNER } from './tmux.constants';
import { ReapNudge } from './unreaped';
import type { SessionPlan, TmuxTree } from './tmux.types';

/**
 * Typed tmux operations. Not a WebSocket gateway: the service's one door to tmux. How a call travels
 * (limiter, breaker, control client or fork, retries) is {@link TmuxCalls}.
 */
@Injectable()
export class TmuxGateway implements OnModuleDestroy {
  private readonly logger = new Logger('Tmux');
  private readonly tmux: TmuxCalls;
  /**
   * Names (`client-<pid>`) of transcript capture clients (src/core/transcript), kept until their
   * process has left tmux: listings subtract them like the control channel's own (A15).
   */
  readonly captureNames = new Set<string>();
  private readonly reap = new ReapNudge();

  constructor(
    @Inject(TMUX_RUNNER) private readonly runner: TmuxRunner,
    @Optional() @Inject(MAS_CONFIG) cfg?: MasConfig,
  ) {
    this.tmux = new TmuxCalls(runner, cfg);
  }

  /** A control client attached to `target` whose stdout is bytes (T-70, T-72); none if the runner has none. */
  openCapture(target: string): ControlProcess<Buffer> | undefined {
    return this.runner.controlBytes?.(['-C', ...attachArgs(target)]);
  }

  /** Forked tmux clients so far; tests and the benchmark read it. */
  get calls(): number {
    return this.tmux.forks;
  }

  get breaker(): CircuitBreaker<[Call], RunResult> {
    return this.tmux.breaker;
  }

  get control(): TmuxControlChannel | undefined {
    return this.tmux.control;
  }

  /** Registers the one observer told about every tmux call (src/metrics); replaces any earlier one. */
  observeCalls(observer: TmuxCallObserver | undefined): void {
    this.tmux.observer = observer;
  }

  /** Seconds until the breaker's trial call, for Retry-After. */
  retryAfterSeconds(): number {
    return this.tmux.retryAfterSeconds();
  }

  onModuleDestroy(): void {
    this.tmux.close();
  }

  /** The whole server in one `list-panes -a -F` call (T-10); no server = empty tree (T-06). */
  async listTree(): Promise<TmuxTree> {
    const tree = await this.listTreeOnce();
    return (await this.nudged(tree)) ? this.listTreeOnce() : tree;
  }

  private async listTreeOnce(): Promise<TmuxTree> {
    const nonce = newNonce();
    const r = await this.tmux.read({
      args: ['list-panes', '-a', '-f', MAS_FILTER, '-F', treeTemplate(nonce)],
      op: 'list-panes',
      noServerOk: true,
    });
    if (isNoServer(r)) return { sessions: [] };
    const t0 = performance.now();
    const { tree, dropped } = await parseTreeYielding(r.stdout, nonce);
    this.logger.debug(
      `list-panes: parsed ${r.stdout.length} chars, ${tree.sessions.length} sessions in ${(performance.now() - t0).toFixed(1)}ms (wall, in slices)`,
    );
    if (dropped) this.logger.warn(`list-panes: dropped ${dropped} malformed record(s)`);
    // Garbage, not tmux's answer to our template: no record carries this call's nonce. A session whose
    // raw values break its own record is dropped alone; it must not fail the listing for everyone.
    if (dropped && tree.sessions.length === 0 && !r.stdout.includes(RS + nonce))
      throw new TmuxError('TMUX_ERROR', 'tmux printed unparsable output', {
        reason: 'parse_failed',
      });
    return this.withoutOwnClient(tree);
  }

  /**
   * `session_attached` counts our control clients too (T-73), including one closed a moment ago that
   * tmux has not detached yet; users must never see them (A15, §5.2). Only names the same listing
   * shows in `session_attached_list` are subtracted.
   */
  private withoutOwnClient(tree: TmuxTree): TmuxTree {
    const own = [...(this.tmux.control?.ownClientNames ?? []), ...this.captureNames];
    if (!own.length) return tree;
    for (const s of tree.sessions) {
      const ours = s.clients.split(',').filter((c) => own.includes(c)).length;
      s.attached = Math.max(0, s.attached - ours);
    }
    return tree;
  }

  /**
   * One session's panes (`list-panes -s -t =name`): what writes re-read under their lock, at a cost
   * that does not grow with the number of sessions on the server. A missing session is an empty tree.
   */
  async listSession(name: string, viaControl = false): Promise<TmuxTree> {
    const tree = await this.listSessionOnce(name, viaControl);
    return (await this.nudged(tree)) ? this.listSessionOnce(name, viaControl) : tree;
  }

  /** Whether tmux was just made to reap exited children that `tree` shows unreaped (unreaped.ts). */
  private async nudged(tree: TmuxTree): Promise<boolean> {
    if (!this.reap.due(tree)) return false;
    const args = ReapNudge.ARGS;
    try {
      await this.tmux.read({
        args,
        op: 'run-shell',
        noServerOk: true,
        control: { commands: [args] },
      });
      return true;
    } catch (e) {
      this.logger.warn(`could not make tmux reap exited panes: ${String(e)}`);
      return false;
    }
  }

  private async listSessionOnce(name: string, viaControl: boolean): Promise<TmuxTree> {
    const nonce = newNonce();
    const args = ['list-panes', '-s', '-t', exactSession(name), '-F', treeTemplate(nonce)];
    // A write's re-read rides a control client that already runs (decision 0006). It never starts
    // one: an attach counts as session activity (§5.6), so a client attaches only to type.
    const control = viaControl ? { commands: [args] } : undefined;
    try {
      const r = await this.tmux.read({ args, op: 'list-panes', noServerOk: true, control });
      return isNoServer(r)
        ? { sessions: [] }
        : this.withoutOwnClient(parseTree(r.stdout, nonce).tree);
    } catch (e) {
      if (e instanceof MasError && e.code === 'TMUX_GONE') return { sessions: [] };
      throw e;
    }
  }

  /** Every session's name and MAS tags, from `list-sessions`: cheaper than the pane tree at large N. */
  async listSessionNames(): Promise<SessionName[]> {
    const nonce = newNonce();
    const args = ['list-sessions', '-f', MAS_FILTER, '-F', sessionTemplate(nonce)];
    const r = await this.tmux.read({
      args,
      op: 'list-sessions',
      noServerOk: true,
      control: { commands: [args] },
    });
    return isNoServer(r) ? [] : parseSessionNames(r.stdout, nonce);
  }

  /** `tmux -V` (T-07). */
  async version(): Promise<string> {
    const r = await this.tmux.read({ args: ['-V'], op: 'version' });
    return r.stdout.trim();
  }

  /**
   * Builds a session layout and answers its panes as tmux then holds them: the listing rides in the
   * last invocation, so confirming the layout costs no client of its own. `created.id` is set to the
   * `$N` the first invocation printed as soon as it is known, failure or not: on any failure the
   * caller rolls back by killing that id, never a name (A1). A duplicate name throws
   * {@link TmuxDuplicateError} with nothing created.
   */
  async createSession(
    plan: SessionPlan,
    created: { id?: string } = {},
    onCreated?: (id: string) => Promise<PipeCommands | void>,
  ): Promise<TmuxTree> {
    // Window 0 is an idle shell; the secrets are session environment before the first agent pane (A5).
    const secrets = Object.keys(plan.secretEnv).length ? [[[...SOURCE_STDIN]]] : [];
    const nonce = newNonce();
    const rest = (pipes?: PipeCommands): string[][][] => [
      ...secrets,
      ...plan.windows.slice(1).map((w) => createWindowCommands(plan.name, w, pipes)),
      [['select-window', '-t', `=${plan.name}:${plan.selectWindow}`]],
      [['list-panes', '-s', '-t', exactSession(plan.name), '-F', treeTemplate(nonce)]],
    ];
    const first = createSessionCommands(plan);
    let last: RunResult | undefined;
    // With capture, window 0 is an invocation of its own so capture is ready (its agent pipes
    // made) before agents exist; the agent windows are packed once the pipes are known.
    let invocations = onCreated ? packCommands([first]) : packCommands([first, ...rest()]);
    for (let i = 0; i < invocations.length; i++) {
      const packed = invocations[i];
      const session = i === 0 ? exactSession(plan.name) : created.id!;
      const cmds = i === 0 ? packed : retarget(packed, plan.name, session);
      const stdin = cmds.some(isSourceStdin)
        ? { input: secretEnvScript(session, plan.secretEnv) }
        : undefined;
      const lines = cmds.flatMap((c) =>
        isSourceStdin(c) ? secretEnvCommands(session, plan.secretEnv) : [c],
      );
      // Over a control client only when one already runs: a create never attaches one to another session.
      try {
        last = await this.tmux.write(chain(cmds), cmds[0][0], false, stdin, { commands: lines });
      } catch (e) {
        if (i === 0) created.id = takeCreatedId(failedOutput(e)).id;
        throw e;
      }
      if (i === 0) created.id = takeCreatedId(last.stdout).id;
      if (!created.id)
        throw new TmuxError('TMUX_ERROR', 'tmux did not report the created session', {
          reason: 'parse_failed',
        });
      // Window 0 holds no agent: transcript capture starts here, before any agent pane exists (§10.2).
      if (i === 0 && onCreated) {
        const pipes = (await onCreated(created.id)) ?? undefined;
        invocations = [...invocations, ...packCommands(rest(pipes))];
      }
    }
    return this.withoutOwnClient(parseTree(takeCreatedId(last!.stdout).rest, nonce).tree);
  }

  /**
   * Starts the transcript pipe of panes (§10.2): `pipes` maps a pane id to its fixed
   * `exec <tee> <path>` (R7's one exception). With `replace`, a pane's pipe is replaced (its old
   * `tee` gets end of file): at start-up an old pipe may lead to a `tee` that died of SIGPIPE, which
   * tmux notices only when the pane next prints, dropping that output. Without it (`-o`), a pane
   * piped by now is left alone.
   */
  async pipePanes(pipes: ReadonlyMap<string, string>, replace = false): Promise<void> {
    const cmds = [...pipes].map(([pane, cmd]) => {
      if (!PANE_ID.test(pane)) throw new InternalError(`not a pane id: ${pane}`);
      return ['pipe-pane', '-O', ...(replace ? [] : ['-o']), '-t', pane, cmd];
    });
    if (cmds.length) await this.writeChain(cmds, 'pipe-pane');
  }

  /** Kills by `$id` or `=name`; "not found" counts as success (contract §4.7 step 4). */
  async killSession(target: string): Promise<void> {
    // Forked, after the control client left this session: its %exit would race the reply.
    if (this.tmux.control?.isAttachedTo(target)) await this.tmux.control.retire();
    await this.tmux.write(['kill-session', '-t', target], 'kill-session', true);
  }

  /** Text reaches tmux only on stdin (T-41). */
  async loadBuffer(buffer: string, text: string): Promise<void> {
    await this.tmux.write(['load-buffer', '-b', buffer, '-'], 'load-buffer', false, {
      input: text,
    });
  }

  /**
   * Pastes one buffer into several panes with ONE tmux client: a fork per pane was most of a
   * message's cost. tmux runs the chain in order and drops the rest at the first error, so a
   * "can't find pane: %n" tells exactly which panes got the paste (those before %n) and which were
   * never attempted (those after). Panes in copy mode leave it first (T-42).
   */
  async pasteMany(
    buffer: string,
    panes: { paneId: string; inMode: boolean }[],
    session?: string,
  ): Promise<{ failedPane?: string; error?: MasError }> {
    const cmds = panes.flatMap((p) => [
      ...(p.inMode ? [['copy-mode', '-q', '-t', p.paneId]] : []),
      ['paste-buffer', '-p', '-b', buffer, '-t', p.paneId],
    ]);
    try {
      await this.tmux.write(chain(cmds), 'paste-buffer', false, undefined, {
        commands: cmds,
        attach: session,
      });
      return {};
    } catch (e) {
      if (!(e instanceof TmuxGoneError)) throw e;
      const named = String(e.internal?.stderr ?? '').match(/%\d+/)?.[0];
      return {
        failedPane: panes.some((p) => p.paneId === named) ? named : panes[0].paneId,
        error: e,
      };
    }
  }

  async deleteBuffer(buffer: string): Promise<void> {
    await this.writeOne(['delete-buffer', '-b', buffer], 'delete-buffer', true);
  }

  async sendKey(paneId: string, key: string): Promise<void> {
    if (!KEY_ALLOWLIST.has(key)) throw new InternalError(`key ${key} is not allowlisted`);
    await this.writeChain(unsynchronized(paneId, ['send-keys', '-t', paneId, key]), 'send-keys');
  }

  /** Constant literal text only (the EOF convention); `-l --` so nothing is a key name or flag (T-32, T-33). */
  async sendLiteral(paneId: string, constant: 'EOF'): Promise<void> {
    await this.writeChain(
      unsynchronized(paneId, ['send-keys', '-t', paneId, '-l', '--', constant]),
      'send-keys',
    );
  }

  /** One command, over the control client when one runs (a line instead of a fork), else forked. */
  private writeOne(cmd: string[], op: string, noServerOk = false): Promise<RunResult> {
    return this.writeChain([cmd], op, noServerOk);
  }

  private writeChain(cmds: string[][], op: string, noServerOk = false): Promise<RunResult> {
    return this.tmux.write(chain(cmds), op, noServerOk, undefined, { commands: cmds });
  }

  /**
   * One pane's screen in one invocation (see {@link paneScreenCommands}): a line on the control client
   * when one already runs (never started for a read: an attach counts as activity, §5.6), else a
   * fork; a read, so it may be retried (R4). Both paths print the same text up to a wrapped last
   * history line, which the fork leaves without LF and control mode ends with one; the marker split
   * does not care. A vanished pane throws {@link TmuxGoneError}.
   */
  async paneScreen(paneId: string, history: number, ansi: boolean): Promise<PaneScreen> {
    if (!PANE_ID.test(paneId)) throw new InternalError(`not a pane id: ${paneId}`);
    const nonce = newNonce();
    const cmds = paneScreenCommands(paneId, history, ansi, screenTemplate(nonce));
    const r = await this.tmux.read({
      args: chain(cmds),
      op: 'capture-pane',
      control: { commands: cmds },
    });
    return parsePaneScreen(r.stdout, nonce);
  }
}

/**
 * A key reaches only its pane even where someone turned `synchronize-panes` on: tmux copies a
 * synchronised pane's keys to every pane of the window, so an Enter meant for one agent would
 * submit what sits in the others. Off on the target pane for this one command, then back to what
 * the window says; one invocation, so nothing interleaves.
 */
function unsynchronized(paneId: string, cmd: string[]): string[][] {
  return [
    ['set-option', '-p', '-t', paneId, 'synchronize-panes', 'off'],
    cmd,
    ['set-option', '-p', '-u', '-t', paneId, 'synchronize-panes'],
  ];
}
