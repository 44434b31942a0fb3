import type { Logger } from '@nestjs/common';
import type { TmuxTree } from '../../tmux/tmux.types';
import type { CheckedDir } from '../../workspace/checked-dir';
import type { CaptureClient } from './capture-client';
import { locateAgents } from '../agent-status';
import { AgentFiles } from './capture-files';
import type { CaptureLock } from './capture-lock';
import { PaneAgents } from './capture-panes';
import { AgentPipes, type PipeBinaries } from './capture-pipe';

/** What a session's capture needs from the service around it. */
export interface CaptureDeps {
  maxBytes: number;
  logger: Logger;
  /** Told about bytes after they are appended at `from` (activity, metrics, `output` events). */
  sink: (agentId: string, from: number, bytes: Buffer) => void;
  /** Told when an agent's transcript is opened holding bytes already: when the last was written. */
  lastWritten?: (agentId: string, at: Date) => void;
  /** One whole listing of a session by name. */
  list: (name: string) => Promise<TmuxTree>;
  /** With these, each agent's bytes come from its pane's pipe, not the client's `%output`. */
  pipeBins?: PipeBinaries;
}

/** The session a capture is for: its id, `$N` and name, as the create, restore or start-up knew them. */
export interface CaptureTarget {
  sessionId: string;
  target: string;
  tmuxName: string;
  /** Service restart: bytes may have been printed unseen since then, a gap before every agent's first byte. */
  gapSince?: Date;
}

/**
 * One live workspace session's transcripts (§10.2): the open `output/<agentId>.log` files, which pane
 * is which agent, and the capture client now attached, if any. It outlives its clients: when one
 * ends unasked, the next one (capture-attacher.ts) writes on at the same offsets after a gap.
 */
export class SessionCapture {
  client?: CaptureClient;
  /** When the current client started: activity stays `unknown` until it has watched long enough. */
  startedAt = 0;
  /** Since when nothing was captured; every agent's transcript gets the gap once a client is on again. */
  lostAt?: Date;
  /** No client is to be attached any more (detach, shutdown, the session gone). */
  stopped = false;
  timer?: NodeJS.Timeout;
  /** Re-attach attempts since a client last stayed attached (the backoff's exponent). */
  retries = 0;
  /** The tmux server and creation time of the `$N` first learnt: a new server may reuse the `$N`. */
  identity?: { serverPid: number; created: number };
  private resolving?: Promise<void>;
  /** Dead agent panes already given their gap. */
  private readonly deadSeen = new Set<string>();
  private readonly files: AgentFiles;
  private readonly panes = new PaneAgents();
  /** The byte source when set (decision 0008): the client then only tells that the session lives. */
  readonly pipes?: AgentPipes;

  constructor(
    readonly to: CaptureTarget,
    dir: CheckedDir,
    /** This process's claim on the session's capture (A14-5), released once the files close. */
    private readonly lock: CaptureLock,
    private readonly deps: CaptureDeps,
  ) {
    this.files = new AgentFiles(dir, deps.maxBytes, deps.logger, to.sessionId, to.gapSince);
    this.files.lastWritten = deps.lastWritten;
    if (deps.pipeBins)
      this.pipes = new AgentPipes(
        dir,
        deps.pipeBins,
        (agentId, bytes) => this.write(agentId, bytes),
        deps.logger,
        to.sessionId,
      );
  }

  /**
   * Live agent panes of `tree` (this session), pane id → agent id; with `unpipedOnly`, those without
   * a pipe (a `tee` that died and whose death tmux noticed).
   */
  livePanes(tree: TmuxTree, unpipedOnly: boolean): Map<string, string> {
    const out = new Map<string, string>();
    const s = tree.sessions.find((x) => x.id === this.to.target && x.name === this.to.tmuxName);
    if (!s) return out;
    for (const [agentId, l] of locateAgents(s, Boolean(s.tagSessionId)))
      if (!l.pane.dead && !(unpipedOnly && l.pane.pipe)) out.set(l.pane.id, agentId);
    return out;
  }

  /** A gap from each agent's last written byte to now: its pipe was gone for a while. */
  gapSinceLastByte(agentIds: Iterable<string>): void {
    for (const a of agentIds) this.files.gapSinceLastByte(a, new Date(this.startedAt));
  }

  /**
   * Bytes a pane printed, from the client's `%output`. An agent with a pipe gets its bytes from the
   * pipe alone (a client set up with no-output sends none after its first moment); this path is
   * for agents without one (no `tee` on the machine, a FIFO refused).
   */
  output(pane: string, bytes: Buffer): void {
    this.closeGap();
    const agentId = this.panes.agentOf(pane);
    if (agentId === '') return;
    if (agentId === undefined) {
      if (this.panes.hold(pane, bytes)) void this.resolvePanes();
    } else this.fromClient(agentId, bytes);
  }

  /**
   * Which pane is which agent, from a listing; `askedAt` when it is a whole listing asked for then;
   * `settled` when its caller knows every agent pane was tagged (the create's, restore's, start-up's).
   */
  learn(tree: TmuxTree, askedAt?: number, settled = false): void {
    const s = tree.sessions.find((x) => x.id === this.to.target && x.name === this.to.tmuxName);
    if (s) this.identity ??= { serverPid: s.serverPid, created: s.created };
    const released = this.panes.learn(tree, this.to.tmuxName, askedAt, settled);
    // after a restart the gap is recorded at once, not only when the agent next prints
    if (this.to.gapSince) for (const agentId of this.panes.agentIds()) this.files.open(agentId);
    for (const [agentId, chunks] of released) for (const b of chunks) this.fromClient(agentId, b);
  }

  /**
   * Whether `tree` still shows this very session (A1, A15): the same `$N` and name on the same server
   * (a new server reuses `$N`s), and no tag naming another session or workspace.
   */
  stillHere(tree: TmuxTree, workspace: string): boolean {
    const s = tree.sessions.find((x) => x.id === this.to.target && x.name === this.to.tmuxName);
    const id = this.identity;
    if (!s || (id && (s.serverPid !== id.serverPid || s.created !== id.created))) return false;
    if (s.tagSessionId && s.tagSessionId !== this.to.sessionId) return false;
    return !s.tagWorkspace || s.tagWorkspace === workspace;
  }

  /** Capture is on again after a loss: each agent's transcript records the gap at its current end. */
  closeGap(): void {
    const since = this.lostAt;
    if (!since) return;
    this.lostAt = undefined;
    const agents = new Set([...this.files.agentIds(), ...this.panes.agentIds()]);
    this.files.gap(agents, since, new Date());
  }

  /**
   * An agent pane seen dead: tmux discards output a control client has not yet been sent once the
   * pane's process has exited (control.c, `wp->fd == -1`), so its last bytes may be missing. One gap
   * per dead pane, from its last captured byte (A14-2).
   */
  paneDied(agentId: string, paneId: string): void {
    // a piped pane is destroyed only once its pipe has drained (tmux's window_pane_destroy_ready)
    if (this.deadSeen.has(paneId) || !this.client || this.pipes?.has(agentId)) return;
    this.deadSeen.add(paneId);
    this.files.gapSinceLastByte(agentId, new Date(this.startedAt));
  }

  /** No more clients; the files close once the current one (if any) has gone. */
  stop(): void {
    this.stopped = true;
    // at once, not when the client has gone: a next capture (a restarted service) may be reading
    // these FIFOs already, and unread bytes stay in a FIFO that a live `tee` holds open for it
    this.pipes?.close();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.client) this.client.close();
    else this.finish();
  }

  /** Closes the files and the directory: nothing more is written for this capture. */
  finish(): void {
    this.lock.release();
    this.pipes?.close();
    this.files.close();
  }

  private fromClient(agentId: string, bytes: Buffer): void {
    if (!this.pipes?.has(agentId)) this.write(agentId, bytes);
  }

  private write(agentId: string, bytes: Buffer): void {
    const from = this.files.append(agentId, bytes);
    if (from === undefined) return;
    try {
      this.deps.sink(agentId, from, bytes);
    } catch (e) {
      // a listener's failure must not reach the client's stream handler (it would end the process)
      this.deps.logger.warn(`transcript ${this.to.sessionId}/${agentId}: ${String(e)}`);
    }
  }

  /**
   * One listing at a time learns new panes. Output that arrived while it ran, of panes it did not
   * show, is decided by one more listing (A14-2: an agent that prints once and exits would otherwise
   * wait for output that never comes); a failed listing is not repeated until new output asks.
   */
  private resolvePanes(): Promise<void> {
    return (this.resolving ??= (async () => {
      let askedAt = 0;
      let again = true;
      while (again && !this.stopped) {
        askedAt = Date.now();
        try {
          this.learn(await this.deps.list(this.to.tmuxName), askedAt);
          again = this.panes.waitsSince(askedAt);
        } catch (e) {
          this.deps.logger.warn(`capture could not list ${this.to.tmuxName}: ${String(e)}`);
          again = false;
        }
      }
      this.resolving = undefined;
    })());
  }
}
