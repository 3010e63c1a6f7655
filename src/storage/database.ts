/**
 * One SQL interface over two engines: PostgreSQL through `pg` (production, DATABASE_URL) and
 * PGlite, PostgreSQL compiled to WASM in a thread of this process on a data folder (the default, so
 * `npm start` needs no database server). Both speak the same SQL with `$n` parameters; the code
 * above this module never knows which one it has.
 */
import { Pool } from 'pg';
import type { Logger } from '../logging/logger';
import { openPgliteThread } from './pglite-thread-client';

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows inserted, updated or deleted (or returned, for a SELECT). */
  rowCount: number;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly engine: 'postgres' | 'pglite';
  /** Runs `work` in one transaction on one connection; rolls back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… ; when absent, PGlite in `dataDir`. */
  databaseUrl?: string;
  /** PGlite's data folder; `undefined` with no databaseUrl means in memory (tests). */
  dataDir?: string;
  /** Most connections per process (pg only). */
  poolSize?: number;
  /** How long to wait for a connection or a statement before the call fails (pg only). */
  timeoutMs?: number;
  logger?: Logger;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openPglite(options.dataDir, options.logger);
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: timeoutMs,
    // A statement that hangs (lock, failing server) must not hold a hook call's record forever.
    statement_timeout: timeoutMs,
    query_timeout: timeoutMs,
  });
  // An idle connection dropped by the server (restart, failover) is reported here; without a
  // listener it would crash the process. The next query opens a fresh connection.
  pool.on('error', (error) => options.logger?.warn({ code: (error as { code?: string }).code }, 'database connection lost'));
  const query = async <Row>(runner: Pool | import('pg').PoolClient, sql: string, params?: unknown[]): Promise<QueryResult<Row>> => {
    const result = await runner.query(sql, params as unknown[]);
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? result.rows.length };
  };
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot reach the database at DATABASE_URL (${describeUrl(url)}): ${messageOf(error)}`);
  }
  return {
    engine: 'postgres',
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work({ query: (sql, params) => query(client, sql, params), exec: async (sql) => void (await client.query(sql)) });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite's shared buffers live in its WASM memory, which grows as pages are touched and never shrinks: with
 * PostgreSQL's default of 128 MB, RSS rose by some 190 MiB over a few thousand call records under load. The call
 * record is written far more than it is read, and reads go through the operating system's file cache anyway.
 */
const PGLITE_SHARED_BUFFERS = '16MB';

/** PGlite in a thread of its own (./pglite-thread-client.ts), so its statements never hold up the event loop. */
async function openPglite(dataDir: string | undefined, logger: Logger | undefined): Promise<Database> {
  try {
    return await openPgliteThread({ dataDir, settings: { shared_buffers: PGLITE_SHARED_BUFFERS } }, (reason) =>
      logger?.error({ reason }, 'the embedded database stopped; call records wait in the spool until the service restarts'),
    );
  } catch (error) {
    throw new Error(`cannot open the embedded database in ${dataDir ?? 'memory'} (DATA_DIR): ${messageOf(error)}`);
  }
}

/** The URL without its password, for messages. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'unparsable URL';
  }
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}
