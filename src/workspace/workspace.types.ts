/** The parts of metadata.json the service reads (contract §6.4). */
export interface SessionMetadata {
  startedAt?: string;
  status?: string;
  stoppedAt?: string;
  agents?: string[];
  requestKeyHash?: string;
}

/** One session directory under `<ws>/sessions/`, as read from disk. */
export interface SessionRecord {
  id: string;
  dir: string;
  /** Parsed `.session` values; null when unreadable or invalid. */
  session: Record<string, string> | null;
  sessionProblem?: 'metadata_unreadable' | 'metadata_invalid';
  metadata?: SessionMetadata;
  /** The `agents` object of the creating request (config.json). */
  config?: Record<string, unknown>;
  warnings: string[];
  dirMtimeMs: number;
  /** Hostable ids that have a `unit/<nn>` directory. */
  unitIds: string[];
}

/** The project-level `.mas_session` of older tooling (contract §6.7). */
export interface LegacyRecord {
  tmuxName: string;
  startedAt?: string;
  projectDir?: string;
  unitDir?: string;
  workflowsDir?: string;
}

export interface Catalogue {
  records: SessionRecord[];
  /** createdAt of each index entry, by session id. */
  indexCreatedAt: Map<string, string>;
  indexUnreadable: boolean;
  legacy?: LegacyRecord;
}
