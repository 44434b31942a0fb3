import type { Logger } from '@nestjs/common';
import type { TmuxGateway } from '../tmux/tmux.gateway';
import { neverReachedTmux } from '../tmux/tmux.errors';

/**
 * Kills the tmux session a failed create or restore made, and nothing else (A1): by the `$N` its
 * creating invocation printed or, when that invocation never answered (a timeout), by the tag holding
 * this very session id — never by name, which another workspace or a person may hold. True when
 * the session is known to be gone; false when tmux could not be asked (the outcome is unknown).
 * When the creating invocation itself never ran (`cause`: out of descriptors, breaker open, …),
 * nothing exists and tmux is not asked: asking would fail the same way and keep the directory.
 */
export async function rollbackTmux(
  tmux: TmuxGateway,
  sessionId: string,
  createdId: string | undefined,
  logger: Logger,
  cause?: unknown,
): Promise<boolean> {
  if (!createdId && neverReachedTmux(cause)) return true;
  try {
    const target =
      createdId ?? (await tmux.listSessionNames()).find((s) => s.tagSessionId === sessionId)?.id;
    if (target) await tmux.killSession(target);
    return true;
  } catch (e) {
    logger.error(`rollback of ${sessionId.slice(0, 8)}: tmux session not removed: ${String(e)}`);
    return false;
  }
}
