/**
 * The two engines every storage test runs on: PGlite (in memory or in a temporary folder) and a
 * real PostgreSQL at TEST_DATABASE_URL (`.ci/run` starts one; locally:
 * `export TEST_DATABASE_URL=$(bash .ci/start-postgres.sh)`). Each test database is fresh: a new
 * PGlite, or a new database created on the server and dropped afterwards.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { openDatabase, type Database } from '../../../src/storage/database';
import { migrate } from '../../../src/storage/migrations';

export const POSTGRES_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;
export const IN_CI = process.env.CI === 'true';

export interface TestDatabase {
  db: Database;
  /** PostgreSQL only: the URL of this test's own database (for a second connection or process). */
  url?: string;
  /** Closes the connection and removes the database. */
  drop(): Promise<void>;
}

export interface EngineUnderTest {
  name: 'pglite' | 'postgres';
  /** A fresh, migrated database. */
  create(options?: { migrated?: boolean }): Promise<TestDatabase>;
}

const pglite: EngineUnderTest = {
  name: 'pglite',
  async create({ migrated = true } = {}) {
    const db = await openDatabase({});
    if (migrated) await migrate(db);
    return { db, drop: () => db.close() };
  },
};

/** Creates an empty database on the test server; returns its URL. */
export async function createPostgresDatabase(serverUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `itp_test_${randomUUID().replace(/-/g, '')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

function postgres(serverUrl: string): EngineUnderTest {
  return {
    name: 'postgres',
    async create({ migrated = true } = {}) {
      const created = await createPostgresDatabase(serverUrl);
      const db = await openDatabase({ databaseUrl: created.url, poolSize: 4 });
      if (migrated) await migrate(db);
      return {
        db,
        url: created.url,
        async drop() {
          await db.close();
          await created.drop();
        },
      };
    },
  };
}

export const ENGINES: EngineUnderTest[] = [pglite, ...(POSTGRES_URL ? [postgres(POSTGRES_URL)] : [])];

/** Empties every table the migrations create, so each test starts from no rows in a database the suite shares. */
export async function emptyTables(db: Database): Promise<void> {
  await db.query('TRUNCATE hook_call, coverage_assertion, hook_card, feedback, admin_access, jwt_replay, rate_limit');
}
