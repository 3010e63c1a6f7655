/**
 * PGlite behind the `Database` interface, run in a thread of its own (./pglite-thread.ts). PGlite is PostgreSQL
 * compiled to WASM: on the event loop, writing the call record was a third of the event loop's busy time under load
 * (`npm run load`, CPU profile), and a refusal that should take milliseconds waited behind it. In its thread the
 * event loop only passes statements and rows.
 *
 * PGlite has one session, so a transaction must not have other statements between its own: transactions and
 * single statements take turns here, one at a time, each whole.
 */
import { Worker } from 'node:worker_threads';
import { workerThreadEntry } from '../worker-thread-entry';
import type { Database, QueryResult, Queryable } from './database';
import type { PgliteReply, PgliteRequest, PgliteStatement, PgliteThreadStart } from './pglite-thread-messages';

interface Pending {
  resolve: (result: QueryResult<unknown>) => void;
  reject: (error: Error) => void;
}

/** A database error from the thread: the message and PostgreSQL's SQLSTATE code, as a `pg` error has them. */
export class PgliteStatementError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PgliteStatementError';
  }
}

const threadEntry = workerThreadEntry(__filename, 'pglite-thread');

/**
 * Starts the thread and opens PGlite in it. `onStopped` is told if the thread stops other than by `close()`: every
 * statement then fails (the call recorder keeps its records in the spool), and a restart of the service reopens the
 * folder.
 */
export async function openPgliteThread(start: PgliteThreadStart, onStopped?: (reason: string) => void): Promise<Database> {
  const worker = new Worker(threadEntry.code, { eval: threadEntry.eval, execArgv: [], workerData: start });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let stopped: Error | undefined;
  let opened = false;
  let closing = false;

  await new Promise<void>((resolve, reject) => {
    worker.on('message', (reply: PgliteReply) => {
      if (reply.kind === 'ready') {
        opened = true;
        return resolve();
      }
      if (reply.kind === 'failed') {
        stopped = new Error(reply.message);
        void worker.terminate();
        return reject(stopped);
      }
      const waiting = pending.get(reply.id);
      if (!waiting) return;
      pending.delete(reply.id);
      // An idle database does not keep the process alive; a statement under way does.
      if (pending.size === 0) worker.unref();
      if (reply.kind === 'done') waiting.resolve({ rows: reply.rows, rowCount: reply.rowCount });
      else waiting.reject(new PgliteStatementError(reply.error.message, reply.error.code));
    });
    worker.on('error', (error) => {
      stopped ??= error;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (opened && !closing) onStopped?.(`the database thread stopped (exit ${code})`);
      stopped ??= new Error(`the database thread stopped (exit ${code})`);
      reject(stopped);
      for (const waiting of pending.values()) waiting.reject(stopped);
      pending.clear();
    });
  });
  worker.unref();

  const send = (statement: PgliteStatement): Promise<QueryResult<unknown>> =>
    new Promise((resolve, reject) => {
      if (stopped) return reject(stopped);
      const id = nextId++;
      pending.set(id, { resolve, reject });
      if (pending.size === 1) worker.ref();
      worker.postMessage({ ...statement, id } satisfies PgliteRequest);
    });

  // Turns: each single statement or whole transaction waits for the one before it.
  let turn: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const result = turn.then(work, work);
    turn = result.catch(() => undefined);
    return result;
  };

  const direct: Queryable = {
    query: async <Row>(sql: string, params?: unknown[]) => (await send({ op: 'query', sql, params })) as QueryResult<Row>,
    exec: async (sql) => void (await send({ op: 'exec', sql })),
  };

  return {
    engine: 'pglite',
    query: (sql, params) => inTurn(() => direct.query(sql, params)),
    exec: (sql) => inTurn(() => direct.exec(sql)),
    transaction: (work) =>
      inTurn(async () => {
        await direct.exec('BEGIN');
        try {
          const result = await work(direct);
          await direct.exec('COMMIT');
          return result;
        } catch (error) {
          await direct.exec('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    close: () =>
      inTurn(async () => {
        closing = true;
        if (!stopped) await send({ op: 'close' });
        stopped = new Error('the database is closed');
        await worker.terminate();
      }),
  };
}
