import type { TmuxTree } from '../../tmux/tmux.types';
import { locateAgents } from '../agent-status';

/** Bytes kept per pane not yet known to be an agent's (it appeared after the last listing). */
const MAX_HELD_BYTES = 1024 * 1024;

interface Held {
  /** When its first byte arrived: a listing asked for later that does not show the pane proves it gone. */
  firstAt: number;
  bytes: number;
  /** Once a byte was refused, later ones are too: what is kept stays one contiguous run. */
  full: boolean;
  chunks: Buffer[];
  /** A listing showed the pane, untagged, before the session settled: it is not gone. */
  listed?: boolean;
}

/**
 * Which pane of a captured session is which agent's ('' for a pane that is no agent's), learnt from
 * listings the way §5.3 places agents (by `@mas_agent_id` in a tagged session, by layout in an
 * untagged one). Output of a pane no listing has named yet is held, at most MAX_HELD_BYTES per pane,
 * until one does; a pane a later listing does not show has gone (pane ids are not reused while the
 * server lives) and what it held is dropped, so nothing grows without bound.
 *
 * Until the first settled listing (the creator's own, after every pane was tagged), an untagged
 * pane may be an agent's whose tag is not set yet: a create's commands can reach tmux in several
 * reads, and a listing can run between a `split-window` and its `set-option` (A14-2). Its output is
 * held, not dropped, until a settled listing names it.
 */
export class PaneAgents {
  private readonly agents = new Map<string, string>();
  private readonly held = new Map<string, Held>();
  private settled = false;

  agentOf(pane: string): string | undefined {
    return this.agents.get(pane);
  }

  /** Every agent a listing placed in this session. */
  agentIds(): string[] {
    return [...new Set(this.agents.values())].filter(Boolean);
  }

  /** Keeps output of a pane not known yet; true when a listing is needed to name it. */
  hold(pane: string, bytes: Buffer): boolean {
    const h = this.held.get(pane) ?? { firstAt: Date.now(), bytes: 0, full: false, chunks: [] };
    if (!h.full && h.bytes + bytes.length <= MAX_HELD_BYTES) {
      h.chunks.push(bytes);
      h.bytes += bytes.length;
    } else h.full = true;
    this.held.set(pane, h);
    return !h.listed;
  }

  /**
   * Learns the panes of session `name`; answers the held output of panes now named an agent's, in
   * order. `askedAt` says the listing is a whole one of the session, asked for then.
   */
  learn(tree: TmuxTree, name: string, askedAt?: number, settled = false): [string, Buffer[]][] {
    this.settled ||= settled;
    for (const s of tree.sessions) {
      if (s.name !== name) continue;
      const located = new Map(
        [...locateAgents(s, Boolean(s.tagSessionId))].map(([id, l]) => [l.pane.id, id]),
      );
      for (const w of s.windows)
        for (const p of w.panes) {
          const agentId = located.get(p.id) ?? '';
          // not yet tagged, perhaps: decided by a settled listing
          if (agentId || this.settled) this.agents.set(p.id, agentId);
          else if (!this.held.has(p.id)) this.agents.delete(p.id);
          else this.held.get(p.id)!.listed = true;
        }
    }
    const released: [string, Buffer[]][] = [];
    for (const [pane, h] of this.held) {
      const agentId = this.agents.get(pane);
      if (agentId !== undefined) {
        this.held.delete(pane);
        if (agentId) released.push([agentId, h.chunks]);
      } else if (h.listed && !this.settled) continue;
      else if (h.listed || (askedAt !== undefined && h.firstAt < askedAt)) this.held.delete(pane);
    }
    return released;
  }

  /** Whether output of a pane no listing has shown yet waits: a listing asked after `askedAt` decides it. */
  waitsSince(askedAt: number): boolean {
    for (const h of this.held.values()) if (!h.listed && h.firstAt >= askedAt) return true;
    return false;
  }
}
