import { execFileSync } from 'node:child_process';

/** Node has no mkfifo; the coreutils binary makes the FIFO a hostile-workspace test needs. */
export function mkfifoSync(path: string): void {
  execFileSync('mkfifo', [path]);
}
