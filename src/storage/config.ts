/**
 * Storage settings from the environment (README "Storage and the call record" lists them).
 * DATABASE_URL selects PostgreSQL; without it the embedded PGlite keeps its files in DATA_DIR.
 */
import path from 'node:path';
import { envInt as int } from '../env-values';

export interface StorageConfig {
  /** postgres://user:password@host:port/db; absent: embedded PGlite. */
  databaseUrl?: string;
  /** PGlite's data folder and the default home of the spool. */
  dataDir: string;
  /** Connections per process to PostgreSQL. */
  poolSize: number;
  /** Wait for a connection or statement before a database call counts as failed, ms. */
  timeoutMs: number;
  /** Days a call record, feedback and admin access entry are kept; the purge deletes older ones. */
  retentionDays: number;
  /** Where call records wait while the database is unreachable. */
  spoolDir: string;
  /** Most call records the spool holds; beyond it new records are dropped (and counted in the log). */
  spoolMaxRecords: number;
}

export function loadStorageConfig(env: NodeJS.ProcessEnv = process.env): StorageConfig {
  const dataDir = path.resolve(env.DATA_DIR || 'data');
  const retentionDays = int(env, 'CALL_RECORD_RETENTION_DAYS', 2190);
  if (retentionDays < 1) throw new Error('CALL_RECORD_RETENTION_DAYS must be at least 1');
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL');
  return {
    databaseUrl,
    dataDir,
    poolSize: Math.max(1, int(env, 'DATABASE_POOL_SIZE', 10)),
    timeoutMs: Math.max(100, int(env, 'DATABASE_TIMEOUT_MS', 5000)),
    retentionDays,
    spoolDir: path.resolve(env.CALL_RECORD_SPOOL_DIR || path.join(dataDir, 'spool')),
    spoolMaxRecords: Math.max(1, int(env, 'CALL_RECORD_SPOOL_MAX', 10_000)),
  };
}
