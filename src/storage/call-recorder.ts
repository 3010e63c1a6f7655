/**
 * Writes call records without making the hook call wait. The route hands over references
 * (`record()` only queues); a short timer later builds the records and writes the batch in one
 * transaction. If the database fails, the batch goes to the spool and a timer retries, writing
 * the spool back when the database answers again; at startup the spool left by an earlier run is
 * written first. Nothing here ever fails a hook call.
 */
import type { Logger } from '../logging/logger';
import { buildCallRecord, insertCallRecord, type CallInput, type CallRecord } from './call-record';
import type { Database } from './database';
import type { CallSpool } from './spool';

export interface CallRecorderOptions {
  db: Database;
  spool: CallSpool;
  logger: Logger;
  /**
   * How long records gather before a batch is written, ms. Batching keeps the writes off every call's
   * path and makes one commit serve several records; the price is that a crash loses at most this
   * much of the queue.
   */
  batchDelayMs?: number;
  /** Most records waiting in memory; beyond it they go straight to the spool. */
  maxQueue?: number;
  /** How often to retry the database while records wait in the spool, ms. */
  retryMs?: number;
}

export interface CallRecorderStats {
  written: number;
  spooled: number;
  dropped: number;
  waitingInSpool: number;
}

/**
 * About 5 ms of PGlite work per transaction for 50-resource calls. PGlite has one session, so other statements (a
 * token's replay check, feedback) wait for the transaction under way: short ones keep that wait short.
 */
const RECORDS_PER_TRANSACTION = 4;

export class CallRecorder {
  private queue: CallInput[] = [];
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The write in progress; flushes run one at a time so batches stay in order. */
  private running: Promise<void> = Promise.resolve();
  private databaseDown = false;
  private closed = false;
  private readonly counts = { written: 0, spooled: 0, dropped: 0 };
  private readonly batchDelayMs: number;
  private readonly maxQueue: number;
  private readonly retryMs: number;

  constructor(private readonly options: CallRecorderOptions) {
    this.batchDelayMs = options.batchDelayMs ?? 200;
    this.maxQueue = options.maxQueue ?? 1000;
    this.retryMs = options.retryMs ?? 5000;
  }

  /** Writes what an earlier run left in the spool (in the background; retried while the database is down). */
  start(): void {
    if (this.options.spool.size > 0) this.enqueue(() => this.drainSpool());
  }

  /** Queues one call's record. Costs the caller an array push. */
  record(input: CallInput): void {
    if (this.closed) return;
    this.queue.push(input);
    if (this.queue.length >= this.maxQueue) this.flushSoon(0);
    else this.flushSoon(this.batchDelayMs);
  }

  /** Resolves when everything queued so far is in the database or the spool. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return this.enqueue(() => this.writeQueued());
  }

  /** Flushes and stops the timers; later records are ignored. */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  stats(): CallRecorderStats {
    return { ...this.counts, waitingInSpool: this.options.spool.size };
  }

  private flushSoon(delayMs: number): void {
    if (this.timer) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.enqueue(() => this.writeQueued());
    }, delayMs);
    this.timer.unref();
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    this.running = this.running.then(work, work).catch((error: unknown) => {
      this.options.logger.error({ errorName: (error as Error | null)?.name }, 'call record writer failed');
    });
    return this.running;
  }

  private async writeQueued(): Promise<void> {
    if (this.queue.length === 0) return;
    const inputs = this.queue;
    this.queue = [];
    const records = inputs.map(buildCallRecord);
    if (!this.databaseDown) {
      try {
        await this.write(records);
        this.counts.written += records.length;
        return;
      } catch (error) {
        this.databaseDown = true;
        this.options.logger.error({ code: codeOf(error), records: records.length }, 'database unavailable: call records go to the spool');
        this.scheduleRetry();
      }
    }
    await this.spoolAll(records);
  }

  private async spoolAll(records: CallRecord[]): Promise<void> {
    let dropped = 0;
    for (const record of records) {
      if (await this.options.spool.put(record)) this.counts.spooled++;
      else dropped++;
    }
    if (dropped > 0) {
      this.counts.dropped += dropped;
      this.options.logger.error({ dropped, spool: this.options.spool.size }, 'call record spool full: records dropped');
    }
  }

  private async drainSpool(): Promise<void> {
    try {
      const written = await this.options.spool.drain((records) => this.write(records));
      this.counts.written += written;
      if (this.databaseDown || written > 0) this.options.logger.info({ written }, 'call record spool written to the database');
      this.databaseDown = false;
    } catch (error) {
      this.databaseDown = true;
      this.options.logger.warn({ code: codeOf(error), waiting: this.options.spool.size }, 'database still unavailable');
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.enqueue(() => this.drainSpool());
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /**
   * Small transactions (a few records each), so that a large batch does not hold PGlite's one session for long; a
   * transaction per record would cost a commit each. Each record is written whole or not at all.
   */
  private async write(records: CallRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += RECORDS_PER_TRANSACTION) {
      const chunk = records.slice(i, i + RECORDS_PER_TRANSACTION);
      await this.options.db.transaction(async (tx) => {
        for (const record of chunk) await insertCallRecord(tx, record);
      });
    }
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : (error as Error | null)?.name;
}
