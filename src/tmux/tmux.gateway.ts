import { Inject, Injectable, Logger, type OnModuleDestroy, Optional } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import type CircuitBreaker from 'opossum';
import { InternalError, MasError, TmuxError, TmuxGoneError } from '../errors/mas-error';
import { argvBytes, chain, createSessionCommands, createWindowCommands, exactSession, MAX_COMMAND_BYTES } from './tmux-args';
import { createTmuxBreaker, DEFAULT_BREAKER } from './tmux-breaker';
import { parseSessionNames, parseTree, parseTreeYielding, SESSION_TEMPLATE, TREE_TEMPLATE, type SessionName } from './tmux-format';
import type { RunOptions, RunResult, TmuxRunner } from './tmux-runner';
import { classifyTmuxFailure, isNoServer } from './tmux.errors';
import { TMUX_RUNNER } from './tmux.constants';
import type { SessionPlan, TmuxTree } from './tmux.types';
import { Limiter } from './limiter';
import { TmuxControlChannel } from './tmux-control';

interface Call {
  args: string[];
  op: string;
  write: boolean;
  opts?: RunOptions;
  /** "no server running" is an answer, not a failure (list, kill). */
  noServerOk?: boolean;
  /**
   * Writes that may go over the control client: the commands (not the chained argv), and the session
   * to attach to when no client runs; without `attach`, only a running client is used.
   */
  control?: { commands: string[][]; attach?: string };
}

/**
 * Packs command groups into as few invocations as fit the client's command limit (T-40): every tmux
 * call costs a fork and more as the server grows, and a 13-agent layout fits in two or three.
 */
export function packCommands(groups: string[][][]): string[][][] {
  const out: string[][][] = [];
  let cur: string[][] = [];
  for (const g of groups) {
    if (cur.length && argvBytes(chain([...cur, ...g])) > MAX_COMMAND_BYTES) {
      out.push(cur);
      cur = [];
    }
    cur = [...cur, ...g];
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Keys the service may send with send-keys, one per call (T-33). Never client text. */
const KEY_ALLOWLIST = new Set(['Enter', 'C-c', 'C-d', 'Escape', 'q']);

/**
 * Typed tmux operations. Not a WebSocket gateway: the service's one door to tmux. Every call goes
 * limiter → breaker → runner; reads are retried once after a fast transient failure (contract R4).
 */
@Injectable()
export class TmuxGateway implements OnModuleDestroy {
  private readonly logger = new Logger('Tmux');
  private readonly limiter = new Limiter(8, 64);
  readonly breaker: CircuitBreaker<[Call], RunResult>;
  private openedAt = 0;
  /** Counts spawned clients; tests and the benchmark read it. */
  calls = 0;

  private readonly resetMs: number;

  /** The persistent client for writes (decision 0006); undefined when off or the runner has none. */
  readonly control?: TmuxControlChannel;

  constructor(
    @Inject(TMUX_RUNNER) private readonly runner: TmuxRunner,
    @Optional() @Inject(MAS_CONFIG) cfg?: MasConfig,
  ) {
    const opts = cfg?.breaker ?? DEFAULT_BREAKER;
    this.resetMs = opts.resetTimeoutMs;
    this.breaker = createTmuxBreaker((c: Call) => this.invoke(c), opts);
    this.breaker.on('open', () => (this.openedAt = Date.now()));
    if (runner.control && cfg?.tmuxControl) {
      const timeoutMs = cfg.tmuxTimeoutMs;
      this.control = new TmuxControlChannel((a) => runner.control!(a), { timeoutMs, startTimeoutMs: Math.min(1500, timeoutMs), idleMs: 5000, cooldownMs: 30_000 });
    }
  }

  onModuleDestroy(): void {
    this.control?.close();
    this.breaker.shutdown();
    this.runner.killAll();
  }

  /** The whole server in one `list-panes -a -F` call (T-10); no server = empty tree (T-06). */
  async listTree(): Promise<TmuxTree> {
    const r = await this.read({ args: ['list-panes', '-a', '-F', TREE_TEMPLATE], op: 'list-panes', write: false, noServerOk: true });
    if (isNoServer(r)) return { sessions: [] };
    const t0 = performance.now();
    const { tree, dropped } = await parseTreeYielding(r.stdout);
    this.logger.debug(`list-panes: parsed ${r.stdout.length} chars, ${tree.sessions.length} sessions in ${(performance.now() - t0).toFixed(1)}ms (wall, in slices)`);
    if (dropped) this.logger.warn(`list-panes: dropped ${dropped} malformed record(s)`);
    if (dropped && tree.sessions.length === 0) throw new TmuxError('TMUX_ERROR', 'tmux printed unparsable output', { reason: 'parse_failed' });
    return this.withoutOwnClient(tree);
  }

  /** `session_attached` counts our control client too (T-73); users must not see it (§5.2). */
  private withoutOwnClient(tree: TmuxTree): TmuxTree {
    const own = this.control?.clientName;
    if (own) for (const s of tree.sessions) if (s.clients.split(',').includes(own)) s.attached = Math.max(0, s.attached - 1);
    return tree;
  }

  /**
   * One session's panes (`list-panes -s -t =name`): what writes re-read under their lock, at a cost
   * that does not grow with the number of sessions on the server. A missing session is an empty tree.
   */
  async listSession(name: string, viaControl = false): Promise<TmuxTree> {
    const args = ['list-panes', '-s', '-t', exactSession(name), '-F', TREE_TEMPLATE];
    // A write's re-read may ride the control client it is about to use (decision 0006).
    const control = viaControl ? { commands: [args], attach: exactSession(name) } : undefined;
    try {
      const r = await this.read({ args, op: 'list-panes', write: false, noServerOk: true, control });
      return isNoServer(r) ? { sessions: [] } : this.withoutOwnClient(parseTree(r.stdout).tree);
    } catch (e) {
      if (e instanceof MasError && e.code === 'TMUX_GONE') return { sessions: [] };
      throw e;
    }
  }

  /** Every session's name and MAS tags, from `list-sessions`: cheaper than the pane tree at large N. */
  async listSessionNames(): Promise<SessionName[]> {
    const args = ['list-sessions', '-F', SESSION_TEMPLATE];
    const r = await this.read({ args, op: 'list-sessions', write: false, noServerOk: true, control: { commands: [args] } });
    return isNoServer(r) ? [] : parseSessionNames(r.stdout);
  }

  /** `tmux -V` (T-07). */
  async version(): Promise<string> {
    const r = await this.read({ args: ['-V'], op: 'version', write: false });
    return r.stdout.trim();
  }

  /**
   * Builds a session layout and answers its panes as tmux then holds them: the listing rides in the
   * last invocation, so confirming the layout costs no client of its own. On any failure the caller
   * rolls back with {@link killSession}.
   */
  async createSession(plan: SessionPlan): Promise<TmuxTree> {
    const groups = [createSessionCommands(plan), ...plan.windows.slice(1).map((w) => createWindowCommands(plan.name, w))];
    groups.push([['select-window', '-t', `=${plan.name}:${plan.selectWindow}`]]);
    groups.push([['list-panes', '-s', '-t', exactSession(plan.name), '-F', TREE_TEMPLATE]]);
    let last: RunResult | undefined;
    // Over a control client only when one already runs: a create never attaches one to another session.
    for (const cmds of packCommands(groups)) last = await this.write(chain(cmds), cmds[0][0], false, undefined, { commands: cmds });
    return this.withoutOwnClient(parseTree(last!.stdout).tree);
  }

  /** Kills by `$id` or `=name`; "not found" counts as success (contract §4.7 step 4). */
  async killSession(target: string): Promise<void> {
    // Forked, after the control client left this session: its %exit would race the reply.
    if (this.control?.isAttachedTo(target)) await this.control.retire();
    await this.write(['kill-session', '-t', target], 'kill-session', true);
  }

  async hasSession(name: string): Promise<boolean> {
    try {
      const r = await this.read({ args: ['has-session', '-t', exactSession(name)], op: 'has-session', write: false, noServerOk: true });
      return r.exitCode === 0;
    } catch (e) {
      if (e instanceof MasError && e.code === 'TMUX_GONE') return false;
      throw e;
    }
  }

  /** Text reaches tmux only on stdin (T-41). */
  async loadBuffer(buffer: string, text: string): Promise<void> {
    await this.write(['load-buffer', '-b', buffer, '-'], 'load-buffer', false, { input: text });
  }

  /**
   * Pastes one buffer into several panes with ONE tmux client: a fork per pane was most of a
   * message's cost. tmux runs the chain in order and drops the rest at the first error, so a
   * "can't find pane: %n" tells exactly which panes got the paste (those before %n) and which were
   * never attempted (those after). Panes in copy mode leave it first (T-42).
   */
  async pasteMany(buffer: string, panes: { paneId: string; inMode: boolean }[], session?: string): Promise<{ failedPane?: string; error?: MasError }> {
    const cmds = panes.flatMap((p) => [...(p.inMode ? [['copy-mode', '-q', '-t', p.paneId]] : []), ['paste-buffer', '-p', '-b', buffer, '-t', p.paneId]]);
    try {
      await this.write(chain(cmds), 'paste-buffer', false, undefined, { commands: cmds, attach: session });
      return {};
    } catch (e) {
      if (!(e instanceof TmuxGoneError)) throw e;
      const named = String(e.internal?.stderr ?? '').match(/%\d+/)?.[0];
      return { failedPane: panes.some((p) => p.paneId === named) ? named : panes[0].paneId, error: e };
    }
  }

  async deleteBuffer(buffer: string): Promise<void> {
    await this.writeOne(['delete-buffer', '-b', buffer], 'delete-buffer', true);
  }

  async sendKey(paneId: string, key: string): Promise<void> {
    if (!KEY_ALLOWLIST.has(key)) throw new InternalError(`key ${key} is not allowlisted`);
    await this.writeOne(['send-keys', '-t', paneId, key], 'send-keys');
  }

  /** Constant literal text only (the EOF convention); `-l --` so nothing is a key name or flag (T-32, T-33). */
  async sendLiteral(paneId: string, constant: 'EOF'): Promise<void> {
    await this.writeOne(['send-keys', '-t', paneId, '-l', '--', constant], 'send-keys');
  }

  /** One command, over the control client when one runs (a line instead of a fork), else forked. */
  private writeOne(cmd: string[], op: string, noServerOk = false): Promise<RunResult> {
    return this.write(chain([cmd]), op, noServerOk, undefined, { commands: [cmd] });
  }

  /** Seconds until the breaker's trial call, for Retry-After. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.openedAt + this.resetMs - Date.now()) / 1000));
  }

  private async read(c: Call): Promise<RunResult> {
    try {
      return await this.fire(c);
    } catch (e) {
      // One retry, only after a fast transient failure, never after a timeout (contract R4).
      if (!(e instanceof TmuxError && e.details?.reason === 'transient')) throw e;
      await new Promise((r) => setTimeout(r, Math.random() * 100));
      return this.fire(c);
    }
  }

  private async write(args: string[], op: string, noServerOk = false, opts?: RunOptions, control?: Call['control']): Promise<RunResult> {
    if (argvBytes(args) > MAX_COMMAND_BYTES) throw new InternalError(`${op}: argv over ${MAX_COMMAND_BYTES} bytes`);
    try {
      return await this.fire({ args, op, write: true, opts, noServerOk, control });
    } catch (e) {
      if (noServerOk && e instanceof MasError && e.code === 'TMUX_GONE') return { exitCode: 0, stdout: '', stderr: '', timedOut: false, overflow: false, durationMs: 0 };
      throw e;
    }
  }

  private async fire(c: Call): Promise<RunResult> {
    const once = async () => {
      try {
        return await this.breaker.fire(c);
      } catch (e) {
        if ((e as { code?: string }).code === 'EOPENBREAKER') throw TmuxError.unavailable('breaker_open', this.retryAfterSeconds());
        if ((e as { code?: string }).code === 'ETIMEDOUT') throw TmuxError.timeout(c.op, c.write ? 'unknown' : 'none');
        throw e;
      }
    };
    // The limiter bounds forks; a line on a running control client forks nothing.
    return c.control && this.control?.up ? once() : this.limiter.run(once);
  }

  private async invoke(c: Call): Promise<RunResult> {
    let r = c.control && this.control ? await this.control.run(c.control.commands, c.control.attach) : null;
    const via = r ? 'control' : 'fork';
    if (!r) {
      this.calls++;
      r = await this.runner.run(c.args, c.opts);
    } else if (r.lost && !c.write) {
      this.calls++; // a read is safe to ask again, on the fork path
      r = await this.runner.run(c.args, c.opts);
    } else if (r.lost) r = { ...r, timedOut: true }; // written, never answered: may have run (T-51)
    this.logger.debug(`${c.op} (${via}) exit=${r.exitCode} ${r.durationMs}ms${r.stderr ? ` stderr="${r.stderr.split('\n', 1)[0].slice(0, 120)}"` : ''}`);
    if (r.exitCode === 0 && !r.timedOut && !r.overflow && !r.spawnError) return r;
    if (c.noServerOk && isNoServer(r)) return r;
    throw classifyTmuxFailure(r, c.op, c.write);
  }
}
