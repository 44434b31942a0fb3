import { constants as C, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { WorkspaceError } from '../errors/mas-error';
import { replaceStatus, SAFE_WORD, serializeSession } from './key-value';
import { CAPS, readSafe } from './safe-file';
import { isoSeconds, updateIndex, type IndexEntry } from './sessions-index';
import { copyTemplates } from './templates';
import { WorkspaceReader } from './workspace.reader';

export interface NewSession {
  id: string;
  agents: string[];
  config: Record<string, unknown>;
  requestKeyHash?: string;
  createdAt: Date;
}

/**
 * Everything the service writes (contract §6.8): only under `<ws>/sessions/`, atomically, never
 * through a symlink, and never deleting a directory except to roll back its own failed create.
 */
@Injectable()
export class WorkspaceWriter {
  private readonly logger = new Logger('WorkspaceWriter');

  constructor(
    @Inject(MAS_CONFIG) private readonly cfg: MasConfig,
    private readonly reader: WorkspaceReader,
  ) {}

  /** Root exists, is a writable directory, and is a safe shell word (§6.3). */
  async checkWritable(): Promise<void> {
    const root = this.cfg.workspaceRoot;
    if (!SAFE_WORD.test(root)) throw new WorkspaceError('unsafe_path', 'Workspace path holds characters shell tools cannot source');
    try {
      const st = await fsp.stat(root);
      if (!st.isDirectory()) throw new Error('not a directory');
      await fsp.access(root, C.W_OK);
      await fsp.mkdir(this.reader.sessionsDir, { recursive: true, mode: 0o755 });
      await fsp.access(this.reader.sessionsDir, C.W_OK);
      if ((await fsp.realpath(this.reader.sessionsDir)) !== this.reader.sessionsDir) throw new Error('sessions/ is a link');
    } catch (e) {
      if (e instanceof WorkspaceError) throw e;
      throw new WorkspaceError('not_writable', 'Workspace root is missing or not writable');
    }
  }

  /** Session directory, agent dirs, workflows, config.json, metadata.json, .session, index entry (§4.9 step 3). */
  async create(s: NewSession): Promise<void> {
    const dir = this.reader.sessionDir(s.id);
    await fsp.mkdir(dir, { mode: 0o755 }); // fails if it exists: never reuse a directory
    await fsp.mkdir(path.join(dir, 'unit'), { mode: 0o755 });
    await fsp.mkdir(path.join(dir, 'workflows'), { mode: 0o755 });
    for (const a of s.agents) await fsp.mkdir(path.join(dir, 'unit', a), { mode: 0o755 });
    await copyTemplates(this.cfg.workspaceRoot, dir, s.agents);
    await fsp.writeFile(path.join(dir, 'config.json'), `${JSON.stringify(s.config, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    const created = isoSeconds(s.createdAt);
    const meta = { sessionId: s.id, sessionName: `mas-${s.id.slice(0, 8)}`, workingDir: dir, startedAt: created, status: 'active', createdBy: 'mas-api', agents: s.agents, ...(s.requestKeyHash ? { requestKeyHash: s.requestKeyHash } : {}) };
    await fsp.writeFile(path.join(dir, 'metadata.json'), `${JSON.stringify(meta, null, 2)}\n`, { mode: 0o644, flag: 'wx' });
    const session = serializeSession({
      SESSION_ID: s.id, TMUX_SESSION: meta.sessionName, STATUS: 'active', CREATED_AT: created,
      UNIT_DIR: path.join(dir, 'unit'), WORKFLOWS_DIR: path.join(dir, 'workflows'), SESSION_DIR: dir,
    });
    await fsp.writeFile(path.join(dir, '.session'), session, { mode: 0o644, flag: 'wx' });
    const entry: IndexEntry = { sessionId: s.id, tmuxSession: meta.sessionName, status: 'active', createdAt: created, workingDir: dir };
    await updateIndex(this.reader.sessionsDir, (idx) => void idx.sessions.push(entry), () => this.rebuildEntries());
  }

  /** Rollback of a failed create: index entry, then the directory, without following symlinks. */
  async remove(id: string): Promise<void> {
    await updateIndex(this.reader.sessionsDir, (idx) => void (idx.sessions = idx.sessions.filter((e) => e.sessionId !== id))).catch((e) => this.logger.error(`rollback: index entry of ${id} not removed: ${String(e)}`));
    await fsp.rm(this.reader.sessionDir(id), { recursive: true, force: true });
  }

  /** Sets the index status; returns the previous value (restore puts it back on failure). */
  async setIndexStatus(id: string, status: string): Promise<string | undefined> {
    let previous: string | undefined;
    await updateIndex(this.reader.sessionsDir, (idx) => {
      const e = idx.sessions.find((x) => x.sessionId === id);
      previous = e?.status;
      if (e) e.status = status;
    }, () => this.rebuildEntries());
    return previous;
  }

  /** `.session` STATUS and metadata.json status (+ stoppedAt/restoredAt); returns warnings. */
  async writeStatus(id: string, status: 'active' | 'stopped', stamp: 'stoppedAt' | 'restoredAt'): Promise<string[]> {
    const dir = this.reader.sessionDir(id);
    const warnings: string[] = [];
    try {
      const s = await readSafe(path.join(dir, '.session'), CAPS.session);
      if (!s.ok) throw new Error(s.reason);
      await atomicWrite(path.join(dir, '.session'), replaceStatus(s.text, status));
      const m = await readSafe(path.join(dir, 'metadata.json'), CAPS.metadata);
      const meta = m.ok ? (JSON.parse(m.text) as Record<string, unknown>) : {};
      await atomicWrite(path.join(dir, 'metadata.json'), `${JSON.stringify({ ...meta, status, [stamp]: isoSeconds() }, null, 2)}\n`);
    } catch (e) {
      this.logger.warn(`metadata of ${id} not updated: ${String(e)}`);
      warnings.push('METADATA_UPDATE_FAILED');
    }
    try {
      await this.setIndexStatus(id, status);
    } catch (e) {
      this.logger.warn(`index status of ${id} not updated: ${String(e)}`);
      warnings.push('INDEX_UPDATE_FAILED');
    }
    return warnings;
  }

  private async rebuildEntries(): Promise<IndexEntry[]> {
    const cat = await this.reader.catalogue();
    return cat.records.map((r) => ({ sessionId: r.id, tmuxSession: `mas-${r.id.slice(0, 8)}`, status: r.session?.STATUS ?? 'active', createdAt: r.session?.CREATED_AT ?? isoSeconds(new Date(r.dirMtimeMs)), workingDir: r.dir }));
  }
}

/** Temporary file beside the target, then rename (never follows a symlink at the target). */
async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp.${process.pid}.${randomBytes(4).toString('hex')}`;
  await fsp.writeFile(tmp, text, { mode: 0o644, flag: 'wx' });
  await fsp.rename(tmp, file);
}
