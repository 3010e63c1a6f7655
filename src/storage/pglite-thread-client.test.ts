import path from 'node:path';
import { runTsxScript } from '../../test/support/tsx-child';
import type { Database } from './database';
import { openPgliteThread, PgliteStatementError } from './pglite-thread-client';

describe('PGlite in its own thread', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openPgliteThread({ settings: { shared_buffers: '16MB' } });
    await db.exec('CREATE TABLE item (id int PRIMARY KEY, note jsonb, at timestamptz)');
  });
  afterAll(() => db.close());
  beforeEach(() => db.exec('TRUNCATE item'));

  it('passes parameters and returns typed rows and counts', async () => {
    const inserted = await db.query('INSERT INTO item VALUES ($1, $2, $3), ($4, $5, $6)', [1, '{"a":[1,2]}', '2026-12-07T10:00:00Z', 2, null, null]);
    expect(inserted.rowCount).toBe(2);
    const { rows } = await db.query<{ id: number; note: unknown; at: Date | null }>('SELECT id, note, at FROM item ORDER BY id');
    expect(rows).toEqual([
      { id: 1, note: { a: [1, 2] }, at: new Date('2026-12-07T10:00:00Z') },
      { id: 2, note: null, at: null },
    ]);
  });

  it("gives PostgreSQL's SQLSTATE with the error, and the database goes on", async () => {
    await db.query('INSERT INTO item (id) VALUES (1)');
    const failed = await db.query('INSERT INTO item (id) VALUES (1)').catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(PgliteStatementError);
    expect(failed).toMatchObject({ code: '23505' });
    expect((await db.query('SELECT count(*)::int AS n FROM item')).rows).toEqual([{ n: 1 }]);
  });

  it('keeps a transaction whole: a statement sent during it runs after it', async () => {
    let outside: Promise<unknown> | undefined;
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO item (id) VALUES (1)');
      outside = db.query('SELECT count(*)::int AS n FROM item');
      await new Promise((resolve) => setTimeout(resolve, 30));
      await tx.query('INSERT INTO item (id) VALUES (2)');
    });
    expect(((await outside) as { rows: unknown[] }).rows).toEqual([{ n: 2 }]);
  });

  it('rolls a transaction back when its work throws', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO item (id) VALUES (1)');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect((await db.query('SELECT count(*)::int AS n FROM item')).rows).toEqual([{ n: 0 }]);
  });

  it('refuses statements once closed', async () => {
    const other = await openPgliteThread({ settings: {} });
    await other.close();
    await expect(other.query('SELECT 1')).rejects.toThrow('the database is closed');
  });

  it('does not keep a process alive while idle, even when never closed', async () => {
    const script = `
      const { openPgliteThread } = require(${JSON.stringify(path.join(__dirname, 'pglite-thread-client.ts'))});
      openPgliteThread({ settings: {} }).then((db) => db.query('SELECT 41 + 1 AS n')).then((r) => console.log(r.rows[0].n));
    `;
    expect((await runTsxScript(script, [], 20_000)).trim()).toBe('42');
  }, 30_000);
});
