/**
 * Opens the service's storage at startup: the database (PostgreSQL or PGlite), its migrations,
 * the call record writer and its spool, the feedback and replay stores, and the hourly purge.
 * Any failure here stops startup with a message naming what failed.
 */
import type { FeedbackStore } from '../cds-hooks/feedback';
import type { Logger } from '../logging/logger';
import type { SharedReplayStore } from '../security/replay-cache';
import { CallRecorder } from './call-recorder';
import type { StorageConfig } from './config';
import { openDatabase, type Database } from './database';
import { createDatabaseFeedbackStore } from './feedback-store';
import { migrate } from './migrations';
import { purgeExpired } from './purge';
import { createDatabaseReplayStore } from './replay-store';
import { CallSpool } from './spool';

const PURGE_INTERVAL_MS = 3_600_000;

export interface Storage {
  db: Database;
  recorder: CallRecorder;
  feedback: FeedbackStore;
  replay: SharedReplayStore;
  /** Writes what is queued, stops the timers and closes the database. */
  close(): Promise<void>;
}

export interface OpenStorageOptions {
  /** Writer batching and retry, for tests. */
  recorder?: { batchDelayMs?: number; retryMs?: number };
}

export async function openStorage(config: StorageConfig, logger: Logger, options: OpenStorageOptions = {}): Promise<Storage> {
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.poolSize,
    timeoutMs: config.timeoutMs,
    logger,
  });
  try {
    const applied = await migrate(db);
    logger.info({ engine: db.engine, applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new Error(`database migration failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const spool = new CallSpool(config.spoolDir, config.spoolMaxRecords, logger);
  try {
    await spool.open();
  } catch (error) {
    await db.close().catch(() => undefined);
    throw new Error(`cannot open the call record spool in ${config.spoolDir} (CALL_RECORD_SPOOL_DIR): ${(error as Error).message}`);
  }
  const storage = storageOn(db, spool, logger, options);
  const purge = async () => {
    try {
      const counts = await purgeExpired(db, config.retentionDays);
      logger.info({ retentionDays: config.retentionDays, ...counts }, 'retention purge');
    } catch (error) {
      logger.warn({ errorName: (error as Error | null)?.name }, 'retention purge failed; retried in an hour');
    }
  };
  let purging = purge();
  const purgeTimer = setInterval(() => {
    purging = purge();
  }, PURGE_INTERVAL_MS);
  purgeTimer.unref();

  return {
    ...storage,
    async close() {
      clearInterval(purgeTimer);
      await purging;
      await storage.close();
    },
  };
}

/** The stores on an open, migrated database and spool; starts writing what the spool holds. */
export function storageOn(db: Database, spool: CallSpool, logger: Logger, options: OpenStorageOptions = {}): Storage {
  const recorder = new CallRecorder({ db, spool, logger, ...options.recorder });
  recorder.start();
  return {
    db,
    recorder,
    feedback: createDatabaseFeedbackStore(db),
    replay: createDatabaseReplayStore(db),
    async close() {
      await recorder.close();
      await db.close();
    },
  };
}
