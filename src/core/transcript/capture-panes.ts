import type { TmuxTree } from '../../tmux/tmux.types';

/** Bytes kept per pane not yet known to be an agent's (it appeared after the last listing). */
const MAX_HELD_BYTES = 1024 * 1024;

interface Held {
  /** When its first byte arrived: a listing asked for later that does not show the pane proves it gone. */
  firstAt: number;
  bytes: number;
  /** Once a byte was refused, later ones are too: what is kept stays one contiguous run. */
  full: boolean;
  chunks: Buffer[];
}

/**
 * Which pane of a captured session is which agent's (`@mas_agent_id`, '' for a pane that is no
 * agent's), learnt from listings. Output of a pane no listing has named yet is held, at most
 * MAX_HELD_BYTES per pane, until one does; a pane a later listing does not show has gone (pane ids
 * are not reused while the server lives) and what it held is dropped, so nothing grows without bound.
 */
export class PaneAgents {
  private readonly agents = new Map<string, string>();
  private readonly held = new Map<string, Held>();

  agentOf(pane: string): string | undefined {
    return this.agents.get(pane);
  }

  /** Every agent a listing placed in this session. */
  agentIds(): string[] {
    return [...new Set(this.agents.values())].filter(Boolean);
  }

  hold(pane: string, bytes: Buffer): void {
    const h = this.held.get(pane) ?? { firstAt: Date.now(), bytes: 0, full: false, chunks: [] };
    if (!h.full && h.bytes + bytes.length <= MAX_HELD_BYTES) {
      h.chunks.push(bytes);
      h.bytes += bytes.length;
    } else h.full = true;
    this.held.set(pane, h);
  }

  /**
   * Learns the panes of session `name`; answers the held output of panes now named an agent's, in
   * order. `askedAt` says the listing is a whole one of the session, asked for then.
   */
  learn(tree: TmuxTree, name: string, askedAt?: number): [string, Buffer[]][] {
    for (const s of tree.sessions)
      if (s.name === name)
        for (const w of s.windows) for (const p of w.panes) this.agents.set(p.id, p.agentId);
    const released: [string, Buffer[]][] = [];
    for (const [pane, h] of this.held) {
      const agentId = this.agents.get(pane);
      if (agentId !== undefined) {
        this.held.delete(pane);
        if (agentId) released.push([agentId, h.chunks]);
      } else if (askedAt !== undefined && h.firstAt < askedAt) this.held.delete(pane);
    }
    return released;
  }
}
