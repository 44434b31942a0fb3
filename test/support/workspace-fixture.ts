import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';

/** Writes a session directory as the shell tooling would (contract §6.3–§6.5). */
export function writeSessionDir(
  ws: string,
  opts: {
    id?: string;
    status?: string;
    createdAt?: string;
    units?: string[];
    metadata?: object;
    sessionText?: string;
  } = {},
): string {
  const id = opts.id ?? randomUUID();
  const dir = path.join(ws, 'sessions', id);
  mkdirSync(path.join(dir, 'unit'), { recursive: true });
  mkdirSync(path.join(dir, 'workflows'), { recursive: true });
  for (const u of opts.units ?? []) mkdirSync(path.join(dir, 'unit', u), { recursive: true });
  const text =
    opts.sessionText ??
    [
      `SESSION_ID=${id}`,
      `TMUX_SESSION=mas-${id.slice(0, 8)}`,
      `STATUS=${opts.status ?? 'active'}`,
      `CREATED_AT=${opts.createdAt ?? '2026-11-25T19:59:35Z'}`,
      `UNIT_DIR=${dir}/unit`,
      `WORKFLOWS_DIR=${dir}/workflows`,
      `SESSION_DIR=${dir}`,
      '',
    ].join('\n');
  writeFileSync(path.join(dir, '.session'), text);
  if (opts.metadata) writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(opts.metadata));
  return id;
}

/** A v4 UUID whose short id is fixed, for collision and ambiguity tests. */
export function idWithShort(short: string): string {
  return `${short}${randomUUID().slice(8)}`;
}
