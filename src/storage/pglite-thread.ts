/**
 * Entry of the thread that owns PGlite (./pglite-thread-client.ts starts it). PGlite is PostgreSQL compiled to WASM,
 * and every statement it runs is CPU work on the thread that calls it; here that is not the event loop. The client
 * (./pglite-thread-client.ts) sends one statement or one whole transaction at a time.
 */
import { PGlite } from '@electric-sql/pglite';
import { parentPort, workerData } from 'node:worker_threads';
import type { PgliteError, PgliteReply, PgliteRequest, PgliteThreadStart } from './pglite-thread-messages';

function asError(error: unknown): PgliteError {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message || error.name : String(error);
  return typeof code === 'string' ? { message, code } : { message };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('pglite-thread.ts runs as a worker thread only');
  const start = workerData as PgliteThreadStart;
  const settings = Object.entries(start.settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  let db: PGlite;
  try {
    db = await PGlite.create(start.dataDir, { startParams: [...PGlite.defaultStartParams, ...settings] });
  } catch (error) {
    port.postMessage({ kind: 'failed', message: asError(error).message } satisfies PgliteReply);
    return;
  }
  // PGlite runs its statements one at a time, in the order they come; the client keeps a transaction's together.
  port.on('message', async (request: PgliteRequest) => {
    let reply: PgliteReply;
    try {
      if (request.op === 'query') {
        const result = await db.query(request.sql, request.params);
        reply = { kind: 'done', id: request.id, rows: result.rows, rowCount: result.affectedRows || result.rows.length };
      } else if (request.op === 'exec') {
        await db.exec(request.sql);
        reply = { kind: 'done', id: request.id, rows: [], rowCount: 0 };
      } else {
        await db.close();
        reply = { kind: 'done', id: request.id, rows: [], rowCount: 0 };
      }
    } catch (error) {
      reply = { kind: 'error', id: request.id, error: asError(error) };
    }
    port.postMessage(reply);
  });
  port.postMessage({ kind: 'ready' } satisfies PgliteReply);
}

void main();
