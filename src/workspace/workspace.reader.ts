import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { isHostable } from '../domain/agents';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { parseKeyValue } from './key-value';
import { CAPS, readSafe, type SafeRead } from './safe-file';
import { readIndex } from './sessions-index';
import type { Catalogue, LegacyRecord, SessionMetadata, SessionRecord } from './workspace.types';

export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * Reads the workspace catalogue (contract §5.1, §6): session directories, their metadata files,
 * the index and the legacy `.mas_session`. Never follows a symlink, never blocks on a FIFO, never
 * executes anything. Parsed files are cached by (path, inode, size, mtime).
 */
@Injectable()
export class WorkspaceReader {
  private readonly logger = new Logger('Workspace');
  private readonly cache = new Map<string, { key: string; value: SafeRead }>();
  readonly root: string;
  readonly sessionsDir: string;

  constructor(@Inject(MAS_CONFIG) cfg: MasConfig) {
    this.root = cfg.workspaceRoot;
    this.sessionsDir = path.join(this.root, 'sessions');
  }

  sessionDir(id: string): string {
    return path.join(this.sessionsDir, id);
  }

  async catalogue(): Promise<Catalogue> {
    const [records, idx, legacy] = await Promise.all([
      this.scan(),
      readIndex(this.sessionsDir, (f, cap) => this.read(f, cap)),
      this.readLegacy(),
    ]);
    const indexCreatedAt = new Map<string, string>();
    for (const e of idx.index.sessions)
      if (typeof e.createdAt === 'string') indexCreatedAt.set(e.sessionId, e.createdAt);
    return { records, indexCreatedAt, indexUnreadable: idx.unreadable, legacy };
  }

  /** One session directory, or undefined when it is not a valid workspace session. */
  async readRecord(id: string): Promise<SessionRecord | undefined> {
    const dir = this.sessionDir(id);
    let st;
    try {
      st = await fsp.lstat(dir);
    } catch {
      return undefined;
    }
    if (!st.isDirectory()) return undefined;
    try {
      await fsp.lstat(path.join(dir, '.session'));
    } catch {
      return undefined; // a session directory holds .session (§5.1)
    }
    const warnings: string[] = [];
    const rec: SessionRecord = {
      id,
      dir,
      session: null,
      warnings,
      dirMtimeMs: st.mtimeMs,
      unitIds: [],
    };
    const [s, m, c, units] = await Promise.all([
      this.read(path.join(dir, '.session'), CAPS.session),
      this.read(path.join(dir, 'metadata.json'), CAPS.metadata),
      this.read(path.join(dir, 'config.json'), CAPS.config),
      fsp.readdir(path.join(dir, 'unit'), { withFileTypes: true }).catch(() => []),
    ]);
    if (s.ok) {
      const kv = parseKeyValue(s.text).values;
      if (kv.SESSION_ID && kv.SESSION_ID !== id) {
        this.logger.warn(`ignoring ${dir}: .session names another SESSION_ID`);
        return undefined;
      }
      if (!kv.SESSION_ID) {
        rec.sessionProblem = 'metadata_invalid';
        warnings.push('METADATA_INVALID');
      } else rec.session = kv;
    } else {
      rec.sessionProblem = 'metadata_unreadable';
      warnings.push('METADATA_UNREADABLE');
    }
    // A10: stop and restore leave such a metadata.json untouched; a reader sees why (a missing one is no problem)
    if (m.ok) rec.metadata = jsonObject(m.text) as SessionMetadata | undefined;
    if ((m.ok && !rec.metadata) || (!m.ok && m.reason !== 'missing'))
      addOnce(warnings, 'METADATA_UNREADABLE');
    if (c.ok) {
      rec.config = jsonObject(c.text);
      if (!rec.config) warnings.push('CONFIG_UNREADABLE');
    } else if (c.reason !== 'missing') warnings.push('CONFIG_UNREADABLE');
    rec.unitIds = units.filter((d) => d.isDirectory() && isHostable(d.name)).map((d) => d.name);
    return rec;
  }

  private async scan(): Promise<SessionRecord[]> {
    let entries;
    try {
      if ((await fsp.realpath(this.sessionsDir)) !== this.sessionsDir) return [];
      entries = await fsp.readdir(this.sessionsDir, { withFileTypes: true });
    } catch {
      return [];
    }
    const ids = entries.filter((e) => e.isDirectory() && UUID_V4.test(e.name)).map((e) => e.name);
    const records = await Promise.all(ids.map((id) => this.readRecord(id)));
    return records.filter((r): r is SessionRecord => r !== undefined);
  }

  private async readLegacy(): Promise<LegacyRecord | undefined> {
    const r = await this.read(path.join(this.root, '.mas_session'), CAPS.masSession);
    if (!r.ok) return undefined;
    const v = parseKeyValue(r.text).values;
    if (!v.SESSION_NAME) return undefined;
    return {
      tmuxName: v.SESSION_NAME,
      startedAt: v.STARTED_AT,
      projectDir: v.PROJECT_DIR,
      unitDir: v.UNIT_DIR,
      workflowsDir: v.WORKFLOWS_DIR,
    };
  }

  private async read(file: string, cap: number): Promise<SafeRead> {
    let key: string;
    try {
      const st = await fsp.lstat(file);
      key = `${st.ino}:${st.size}:${st.mtimeMs}:${st.mode}`;
    } catch {
      return { ok: false, reason: 'missing' };
    }
    const hit = this.cache.get(file);
    if (hit && hit.key === key) return hit.value;
    const value = await readSafe(file, cap);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(file, { key, value });
    return value;
  }
}

function addOnce(list: string[], w: string): void {
  if (!list.includes(w)) list.push(w);
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
