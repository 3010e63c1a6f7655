/**
 * The schema, as forward-only migrations applied in order at startup. A migration is never edited
 * once released: the runner stores each one's checksum and refuses to start if an applied one
 * changed (fix forward with a new migration instead). Replicas starting together are serialised
 * by a transaction-scoped advisory lock, so each migration runs exactly once.
 */
import { createHash } from 'node:crypto';
import type { Database } from './database';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'call record, feedback, admin access log, replay cache, rate limits',
    sql: `
      -- One row per hook call: the audit trail (PHI). Large JSON (request, response, record read)
      -- is kept as text: written on every call, parsed only when an administrator reads it.
      CREATE TABLE hook_call (
        id uuid PRIMARY KEY,
        hook_instance text NOT NULL,
        service_id text NOT NULL,
        hook text,
        client_issuer text,
        received_at timestamptz NOT NULL,
        duration_ms double precision NOT NULL,
        outcome text NOT NULL,
        http_status integer NOT NULL,
        request text NOT NULL,
        response text,
        record_read text,
        evaluations jsonb NOT NULL DEFAULT '[]',
        timings jsonb NOT NULL DEFAULT '{}'
      );
      CREATE INDEX hook_call_hook_instance ON hook_call (hook_instance);
      CREATE INDEX hook_call_received_at ON hook_call (received_at);

      -- Every coverage-assertion-id an answer carried, for DTR and prior-auth follow-up.
      CREATE TABLE coverage_assertion (
        assertion_id text PRIMARY KEY,
        call_id uuid NOT NULL REFERENCES hook_call (id) ON DELETE CASCADE
      );
      CREATE INDEX coverage_assertion_call ON coverage_assertion (call_id);

      -- Every card an answer carried, so feedback (which names a card) finds its call and evaluation.
      CREATE TABLE hook_card (
        card_uuid text PRIMARY KEY,
        call_id uuid NOT NULL REFERENCES hook_call (id) ON DELETE CASCADE,
        evaluation_index integer
      );
      CREATE INDEX hook_card_call ON hook_card (call_id);

      -- CDS Hooks feedback; linked to its card by uuid at query time (it may arrive before the
      -- call's record is written, and a card we never issued is still worth keeping).
      CREATE TABLE feedback (
        id bigserial PRIMARY KEY,
        service_id text NOT NULL,
        card_uuid text NOT NULL,
        outcome text NOT NULL,
        outcome_timestamp timestamptz NOT NULL,
        received_at timestamptz NOT NULL,
        override_reason_system text,
        override_reason_code text,
        override_reason_display text,
        user_comment text,
        accepted_suggestions jsonb,
        client_issuer text
      );
      CREATE INDEX feedback_received_at ON feedback (received_at);
      CREATE INDEX feedback_card ON feedback (card_uuid);

      -- Every read through the admin API.
      CREATE TABLE admin_access (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        method text NOT NULL,
        path text NOT NULL,
        query jsonb NOT NULL,
        status integer NOT NULL,
        results integer,
        remote_address text
      );
      CREATE INDEX admin_access_at ON admin_access (at);

      -- JWT ids seen, shared by every replica (insert-if-absent).
      CREATE TABLE jwt_replay (
        key text PRIMARY KEY,
        expires_at timestamptz NOT NULL
      );
      CREATE INDEX jwt_replay_expires_at ON jwt_replay (expires_at);

      -- rate-limiter-flexible's PostgreSQL store, in the shape that library reads and writes.
      CREATE TABLE rate_limit (
        key varchar(255) PRIMARY KEY,
        points integer NOT NULL DEFAULT 0,
        expire bigint
      );
    `,
  },
];

/** A stable number for pg_advisory_xact_lock: "itpcds" migrations. */
const MIGRATION_LOCK = 724_115_001;

const checksum = (sql: string) => createHash('sha256').update(sql).digest('hex');

/** Applies every migration not yet applied; returns the versions it applied. Throws naming the migration that failed. */
export async function migrate(db: Database, migrations: Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migration (
         version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<{ version: number; checksum: string }>('SELECT version, checksum FROM schema_migration');
    const applied = new Map(rows.map((r) => [r.version, r.checksum]));
    const done: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      const sum = checksum(migration.sql);
      const previous = applied.get(migration.version);
      if (previous !== undefined) {
        if (previous !== sum) {
          throw new Error(`migration ${migration.version} (${migration.name}) was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        throw new Error(`migration ${migration.version} (${migration.name}) failed: ${error instanceof Error ? error.message : String(error)}`);
      }
      await tx.query('INSERT INTO schema_migration (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, sum]);
      done.push(migration.version);
    }
    return done;
  });
}
