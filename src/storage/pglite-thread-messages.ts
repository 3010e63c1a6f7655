/** The messages between the database client (./pglite-thread-client.ts) and the thread that owns PGlite (./pglite-thread.ts). */

export interface PgliteThreadStart {
  /** PGlite's data folder; undefined: in memory. */
  dataDir?: string;
  /** PostgreSQL settings, as `-c name=value` pairs. */
  settings: Record<string, string>;
}

/** What the client asks of the thread. */
export type PgliteStatement = { op: 'query'; sql: string; params?: unknown[] } | { op: 'exec'; sql: string } | { op: 'close' };

export type PgliteRequest = PgliteStatement & { id: number };

/** A database error, as plain data: its message and, when PostgreSQL gave one, its SQLSTATE code. */
export interface PgliteError {
  message: string;
  code?: string;
}

export type PgliteReply =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'done'; id: number; rows: unknown[]; rowCount: number }
  | { kind: 'error'; id: number; error: PgliteError };
