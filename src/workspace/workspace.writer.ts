import { constants as C, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { MAS_CONFIG, type MasConfig } from '../config/mas-config';
import { WorkspaceError } from '../errors/mas-error';
import { type CheckedDir, withCheckedDir } from './checked-dir';
import { SAFE_WORD, serializeSession } from './key-value';
import { CAPS, readSafe } from './safe-file';
import { nextMetadata, nextSession, type StatusUpdate } from './status-update';
import { isoSeconds, readIndex, updateIndex, type IndexEntry } from './sessions-index';
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
    if (!SAFE_WORD.test(root))
      throw new WorkspaceError(
        'unsafe_path',
        'Workspace path holds characters shell tools cannot source',
      );
    try {
      const st = await fsp.stat(root);
      if (!st.isDirectory()) throw new Error('not a directory');
      await fsp.access(root, C.W_OK);
      await fsp.mkdir(this.reader.sessionsDir, { recursive: true, mode: 0o755 });
      await fsp.access(this.reader.sessionsDir, C.W_OK);
      if ((await fsp.realpath(this.reader.sessionsDir)) !== this.reader.sessionsDir)
        throw new Error('sessions/ is a link');
    } catch (e) {
      if (e instanceof WorkspaceError) throw e;
      throw new WorkspaceError('not_writable', 'Workspace root is missing or not writable');
    }
  }

  /**
   * Session directory, agent dirs, workflows, config.json, metadata.json, .session, index entry (§4.9
   * step 3). Everything below the new directory is created through its checked descriptor (A10).
   */
  async create(s: NewSession): Promise<void> {
    const dir = this.reader.sessionDir(s.id);
    const meta = await this.writeNewDir(s, dir).catch((e: unknown) => {
      if (e instanceof WorkspaceError) throw e;
      this.logger.warn(`session directory of ${s.id} not written: ${String(e)}`);
      throw new WorkspaceError('not_writable', 'Session directory could not be written'); // a 503, not a 500 (R14)
    });
    const entry: IndexEntry = {
      sessionId: s.id,
      tmuxSession: meta.sessionName,
      status: 'active',
      createdAt: meta.startedAt,
      workingDir: dir,
    };
    await updateIndex(
      this.reader.sessionsDir,
      (idx) => void idx.sessions.push(entry),
      () => this.rebuildEntries(),
    );
  }

  private async writeNewDir(s: NewSession, dir: string) {
    await fsp.mkdir(dir, { mode: 0o755 }); // fails if it exists: never reuse a directory
    return withCheckedDir(dir, async (d) => {
      await d.mkdir('unit');
      await d.mkdir('workflows');
      await withCheckedDir(path.join(dir, 'unit'), async (units) => {
        for (const a of s.agents) await units.mkdir(a);
      });
      await d.verify();
      await copyTemplates(this.cfg.workspaceRoot, d.fdPath, s.agents);
      await d.create('config.json', `${JSON.stringify(s.config, null, 2)}\n`, 0o600);
      const created = isoSeconds(s.createdAt);
      const m = {
        sessionId: s.id,
        sessionName: `mas-${s.id.slice(0, 8)}`,
        workingDir: dir,
        startedAt: created,
        status: 'active',
        createdBy: 'mas-api',
        agents: s.agents,
        ...(s.requestKeyHash ? { requestKeyHash: s.requestKeyHash } : {}),
      };
      await d.create('metadata.json', `${JSON.stringify(m, null, 2)}\n`, 0o644);
      await d.create(
        '.session',
        serializeSession({
          SESSION_ID: s.id,
          TMUX_SESSION: m.sessionName,
          STATUS: 'active',
          CREATED_AT: created,
          UNIT_DIR: path.join(dir, 'unit'),
          WORKFLOWS_DIR: path.join(dir, 'workflows'),
          SESSION_DIR: dir,
        }),
        0o644,
      );
      return m;
    });
  }

  /**
   * Rollback of a failed create: index entry, then the directory, without following symlinks. The
   * index is looked at first, without the lock: a create whose append failed (the lock held past its
   * 5 s) added no entry, and waiting another 5 s on the same lock to remove nothing doubled the 503's
   * time. Only the create of this very id could have added the entry, and it has finished by now.
   */
  async remove(id: string): Promise<void> {
    const has = (await readIndex(this.reader.sessionsDir)).index.sessions.some(
      (e) => e.sessionId === id,
    );
    if (has)
      await updateIndex(
        this.reader.sessionsDir,
        (idx) => void (idx.sessions = idx.sessions.filter((e) => e.sessionId !== id)),
      ).catch((e) => this.logger.error(`rollback: index entry of ${id} not removed: ${String(e)}`));
    await fsp.rm(this.reader.sessionDir(id), { recursive: true, force: true });
  }

  /** Sets the index status; returns the previous value (restore puts it back on failure). */
  async setIndexStatus(id: string, status: string): Promise<string | undefined> {
    let previous: string | undefined;
    await updateIndex(
      this.reader.sessionsDir,
      (idx) => {
        const e = idx.sessions.find((x) => x.sessionId === id);
        previous = e?.status;
        if (e) e.status = status;
      },
      () => this.rebuildEntries(),
    );
    return previous;
  }

  /**
   * `.session` STATUS and metadata.json status (+ stoppedAt/restoredAt), then the index; returns the
   * answer's warnings. Each file is decided on its own (A10): one that cannot first be read is left
   * byte for byte (`METADATA_UNREADABLE`) while the other is still written; a session directory that is
   * no longer the real one (a symlink swapped in) gets no write at all (`METADATA_UPDATE_FAILED`). The
   * index is updated in every case. Signature unchanged: restore's answer can carry the same warnings.
   */
  async writeStatus(
    id: string,
    status: 'active' | 'stopped',
    stamp: 'stoppedAt' | 'restoredAt',
  ): Promise<string[]> {
    const warnings = new Set<string>();
    try {
      await withCheckedDir(this.reader.sessionDir(id), async (d) => {
        const s = await readSafe(d.at('.session'), CAPS.session);
        await this.applyUpdate(d, id, '.session', nextSession(s, id, status), warnings);
        const m = await readSafe(d.at('metadata.json'), CAPS.metadata);
        await this.applyUpdate(
          d,
          id,
          'metadata.json',
          nextMetadata(m, status, stamp, isoSeconds()),
          warnings,
        );
      });
    } catch (e) {
      this.logger.warn(`metadata of ${id} not updated: ${String(e)}`);
      warnings.add('METADATA_UPDATE_FAILED');
    }
    try {
      await this.setIndexStatus(id, status);
    } catch (e) {
      this.logger.warn(`index status of ${id} not updated: ${String(e)}`);
      warnings.add('INDEX_UPDATE_FAILED');
    }
    return [...warnings];
  }

  private async applyUpdate(
    d: CheckedDir,
    id: string,
    name: string,
    u: StatusUpdate,
    warnings: Set<string>,
  ): Promise<void> {
    if ('warning' in u) {
      this.logger.warn(`${name} of ${id} left untouched: ${u.why}`);
      warnings.add(u.warning);
      return;
    }
    try {
      await d.replace(name, u.text);
    } catch (e) {
      this.logger.warn(`${name} of ${id} not updated: ${String(e)}`);
      warnings.add('METADATA_UPDATE_FAILED');
    }
  }

  private async rebuildEntries(): Promise<IndexEntry[]> {
    const cat = await this.reader.catalogue();
    return cat.records.map((r) => ({
      sessionId: r.id,
      tmuxSession: `mas-${r.id.slice(0, 8)}`,
      status: r.session?.STATUS ?? 'active',
      createdAt: r.session?.CREATED_AT ?? isoSeconds(new Date(r.dirMtimeMs)),
      workingDir: r.dir,
    }));
  }
}
