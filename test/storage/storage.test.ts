/**
 * The storage layer on both engines: PGlite always, PostgreSQL when TEST_DATABASE_URL names a
 * server (in CI it must: the last test fails the run otherwise). Migrations, the call record and
 * its spool, feedback and its summary, the shared JWT replay cache and rate limits, retention.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../src/cds-hooks/logger';
import { createLimiter } from '../../src/ops/rate-limit';
import { buildCallRecord, findCalls, insertCallRecord } from '../../src/storage/call-record';
import { CallRecorder } from '../../src/storage/call-recorder';
import { createDatabaseFeedbackStore, summariseFeedback } from '../../src/storage/feedback-store';
import { migrate, MIGRATIONS } from '../../src/storage/migrations';
import { purgeExpired } from '../../src/storage/purge';
import { createDatabaseReplayStore } from '../../src/storage/replay-store';
import { CallSpool } from '../../src/storage/spool';
import { ENGINES, IN_CI, POSTGRES_URL, emptyTables, type TestDatabase } from './support/engines';
import { callInput, cuttable } from './support/records';

describe.each(ENGINES)('storage on $name', (engine) => {
  // One database per engine (starting PGlite takes seconds), emptied before each test.
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await engine.create();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await emptyTables(t.db);
    dir = await mkdtemp(path.join(tmpdir(), 'itp-spool-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('migrations', () => {
    it('apply once; a second run applies nothing', async () => {
      const fresh = await engine.create({ migrated: false });
      try {
        expect(await migrate(fresh.db)).toEqual(MIGRATIONS.map((m) => m.version));
        expect(await migrate(fresh.db)).toEqual([]);
        const { rows } = await fresh.db.query<{ version: number }>('SELECT version FROM schema_migration ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      } finally {
        await fresh.drop();
      }
    });

    it('refuse to start when an applied migration was edited', async () => {
      const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, sql: `${m.sql}\n-- edited` } : m));
      await expect(migrate(t.db, edited)).rejects.toThrow('migration 1 (call record, feedback, admin access log, replay cache, rate limits) was changed after it was applied');
    });

    it('name the migration that fails and leave nothing of it behind', async () => {
      const broken = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_column FROM hook_call;' }];
      await expect(migrate(t.db, broken)).rejects.toThrow(/migration 99 \(broken\) failed: .*no_such_column/);
      const { rows } = await t.db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'half_done'`);
      expect(rows).toHaveLength(0);
      expect((await t.db.query('SELECT version FROM schema_migration WHERE version = 99')).rows).toHaveLength(0);
    });
  });

  describe('call record', () => {
    it('keeps the request without tokens, what was read, the answer, evaluations, assertion ids, issuer and timings', async () => {
      const input = callInput({ assertionId: 'assertion-1' });
      const recorder = new CallRecorder({ db: t.db, spool: await openSpool(dir), logger: silentLogger });
      recorder.record(input);
      await recorder.flush();

      const hookInstance = (input.request as { hookInstance: string }).hookInstance;
      const [call] = await findCalls(t.db, { hookInstance });
      expect(call).toMatchObject({
        hookInstance,
        serviceId: 'intrathecal-pump-order-sign',
        hook: 'order-sign',
        clientIssuer: 'https://ehr.example',
        outcome: 'cards',
        httpStatus: 200,
        durationMs: 12.5,
        response: input.response,
        evaluations: input.evaluations,
        coverageAssertionIds: ['assertion-1'],
        timings: { totalMs: 12.5 },
        recordRead: {
          resourceCount: 2,
          references: ['Patient/p1/_history/3', 'Observation/o1'],
          referencesTruncated: false,
          fetchedKeys: ['observations'],
          truncatedKeys: [],
        },
      });
      expect(call.request).toEqual({
        ...(input.request as object),
        fhirAuthorization: { token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' },
      });
      expect(JSON.stringify(call)).not.toContain('secret-access-token');
      expect(call.cards).toEqual([{ uuid: expect.any(String), evaluationIndex: 0 }]);
      expect(await findCalls(t.db, { coverageAssertionId: 'assertion-1' })).toEqual([call]);
      expect(await findCalls(t.db, { cardUuid: call.cards[0].uuid })).toEqual([call]);
    });

    it('finds every call of one hook instance and none of another', async () => {
      const recorder = new CallRecorder({ db: t.db, spool: await openSpool(dir), logger: silentLogger });
      const shared = '0b7c5c1e-34f5-4a53-9a8c-0f5b8a0f6d11';
      recorder.record(callInput({ hookInstance: shared }));
      recorder.record(callInput({ hookInstance: shared, outcome: 'no-card' }));
      recorder.record(callInput());
      await recorder.flush();
      const calls = await findCalls(t.db, { hookInstance: shared });
      expect(calls.map((c) => c.outcome).sort()).toEqual(['cards', 'no-card']);
      expect(await findCalls(t.db, { hookInstance: '6a1e1bb0-55a7-4c3b-8f0e-4d8f0b6c7a22' })).toEqual([]);
    });

    it('writes a record once even if it is written twice (a spool replayed after a crash)', async () => {
      const record = buildCallRecord(callInput());
      await insertCallRecord(t.db, record);
      await insertCallRecord(t.db, record);
      expect(await findCalls(t.db, { hookInstance: record.hookInstance })).toHaveLength(1);
    });
  });

  describe('spool', () => {
    it('keeps records while the database is down and writes them when it is back', async () => {
      const db = cuttable(t.db);
      const recorder = new CallRecorder({ db, spool: await openSpool(dir), logger: silentLogger, retryMs: 20 });
      db.down = true;
      const inputs = [callInput(), callInput()];
      for (const input of inputs) recorder.record(input);
      await recorder.flush();
      expect(recorder.stats()).toMatchObject({ written: 0, spooled: 2, waitingInSpool: 2 });
      expect(await spoolFiles(dir)).toHaveLength(2);

      db.down = false;
      await waitFor(() => recorder.stats().waitingInSpool === 0);
      await recorder.close();
      for (const input of inputs) {
        expect(await findCalls(t.db, { hookInstance: (input.request as { hookInstance: string }).hookInstance })).toHaveLength(1);
      }
      expect(await spoolFiles(dir)).toEqual([]);
    });

    it('loses nothing across a restart: the next process writes what the last one spooled', async () => {
      const db = cuttable(t.db);
      db.down = true;
      const first = new CallRecorder({ db, spool: await openSpool(dir), logger: silentLogger });
      const input = callInput();
      first.record(input);
      await first.close();
      expect(await spoolFiles(dir)).toHaveLength(1);

      // A new process: a new spool on the same folder, the database reachable again.
      const spool = await openSpool(dir);
      expect(spool.size).toBe(1);
      const second = new CallRecorder({ db: t.db, spool, logger: silentLogger });
      second.start();
      await second.close();
      expect(await findCalls(t.db, { hookInstance: (input.request as { hookInstance: string }).hookInstance })).toHaveLength(1);
      expect(await spoolFiles(dir)).toEqual([]);
    });

    it('is bounded: past its size new records are dropped and counted', async () => {
      const db = cuttable(t.db);
      db.down = true;
      const recorder = new CallRecorder({ db, spool: await openSpool(dir, 2), logger: silentLogger, retryMs: 60_000 });
      for (let i = 0; i < 5; i++) recorder.record(callInput());
      await recorder.close();
      expect(recorder.stats()).toMatchObject({ spooled: 2, dropped: 3, waitingInSpool: 2 });
      expect(await spoolFiles(dir)).toHaveLength(2);
    });
  });

  describe('feedback', () => {
    it('is kept with its card, and summarised per outcome, criterion and override reason', async () => {
      const cardA = '7e0b5f7c-0e3d-4b8f-9c61-2f1d3b5a6c01';
      const cardB = '7e0b5f7c-0e3d-4b8f-9c61-2f1d3b5a6c02';
      await insertCallRecord(t.db, buildCallRecord(callInput({ cardUuid: cardA })));
      await insertCallRecord(t.db, buildCallRecord(callInput({ cardUuid: cardB })));
      const store = createDatabaseFeedbackStore(t.db);
      const receivedAt = new Date().toISOString();
      const reason = { system: 'http://example.org/override-reason', code: 'documented-elsewhere', display: 'Documented elsewhere' };
      await store.add([
        { serviceId: 'intrathecal-pump-order-sign', receivedAt, feedback: { card: cardA, outcome: 'overridden', overrideReason: { reason, userComment: 'in the paper chart' }, outcomeTimestamp: receivedAt } },
        { serviceId: 'intrathecal-pump-order-sign', receivedAt, feedback: { card: cardB, outcome: 'overridden', overrideReason: { reason }, outcomeTimestamp: receivedAt } },
        { serviceId: 'intrathecal-pump-order-sign', receivedAt, feedback: { card: cardA, outcome: 'accepted', acceptedSuggestions: [{ id: 's1' }], outcomeTimestamp: receivedAt } },
        { serviceId: 'intrathecal-pump-order-sign', receivedAt, feedback: { card: '7e0b5f7c-0e3d-4b8f-9c61-2f1d3b5a6cff', outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: receivedAt } },
      ]);

      const listed = await store.list('intrathecal-pump-order-sign');
      expect(listed).toHaveLength(4);
      expect(listed[0].feedback).toEqual({ card: cardA, outcome: 'overridden', overrideReason: { reason, userComment: 'in the paper chart' }, outcomeTimestamp: receivedAt });

      const summary = await summariseFeedback(t.db, new Date(Date.now() - 60_000), new Date(Date.now() + 60_000));
      expect(summary.total).toBe(4);
      expect(summary.unlinked).toBe(1);
      expect(summary.byOutcome).toEqual([
        { outcome: 'accepted', count: 2 },
        { outcome: 'overridden', count: 2 },
      ]);
      expect(summary.byCriterion).toEqual([
        { criterion: 'age-18', status: 'met', outcome: 'accepted', count: 1 },
        { criterion: 'age-18', status: 'met', outcome: 'overridden', count: 2 },
        { criterion: 'psych-clearance', status: 'not-documented', outcome: 'accepted', count: 1 },
        { criterion: 'psych-clearance', status: 'not-documented', outcome: 'overridden', count: 2 },
      ]);
      expect(summary.byOverrideReason).toEqual([{ ...reason, count: 2 }]);

      const before = await summariseFeedback(t.db, new Date('2020-01-01T00:00:00Z'), new Date('2020-02-01T00:00:00Z'));
      expect(before).toMatchObject({ total: 0, byOutcome: [], byCriterion: [], byOverrideReason: [] });
    });
  });

  describe('shared state', () => {
    it('JWT ids: a key is claimed once until it expires, even by simultaneous claimers', async () => {
      const store = createDatabaseReplayStore(t.db);
      const results = await Promise.all(Array.from({ length: 8 }, () => store.claim('iss\u0000jti-1', Date.now() + 60_000)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.claim('iss\u0000jti-2', Date.now() + 60_000)).toBe(true);
      // An expired entry may be claimed again (a token cannot be used once expired anyway).
      expect(await store.claim('iss\u0000jti-3', Date.now() - 1000)).toBe(true);
      expect(await store.claim('iss\u0000jti-3', Date.now() + 60_000)).toBe(true);
      expect(await store.claim('iss\u0000jti-3', Date.now() + 60_000)).toBe(false);
    });

    it('rate limits: two limiters on one database share one budget', async () => {
      const replicaA = createLimiter({ perMinute: 6, burst: 3, db: t.db });
      const replicaB = createLimiter({ perMinute: 6, burst: 3, db: t.db });
      await replicaA.consume('iss:https://ehr.example');
      await replicaB.consume('iss:https://ehr.example');
      await replicaA.consume('iss:https://ehr.example');
      await expect(replicaB.consume('iss:https://ehr.example')).rejects.toMatchObject({ remainingPoints: 0 });
      await expect(replicaA.consume('iss:https://other.example')).resolves.toMatchObject({ remainingPoints: 2 });
    });
  });

  describe('retention', () => {
    it('purges call records (with their cards and assertions), feedback and admin reads older than the retention', async () => {
      const old = buildCallRecord(callInput({ receivedAt: new Date('2020-01-01T00:00:00Z'), assertionId: 'old-assertion' }));
      const recent = buildCallRecord(callInput({ assertionId: 'recent-assertion' }));
      await insertCallRecord(t.db, old);
      await insertCallRecord(t.db, recent);
      const store = createDatabaseFeedbackStore(t.db);
      await store.add([
        { serviceId: 's', receivedAt: '2020-01-02T00:00:00Z', feedback: { card: old.cards[0].uuid, outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: '2020-01-02T00:00:00Z' } },
      ]);
      await t.db.query(`INSERT INTO admin_access (at, method, path, query, status) VALUES ('2020-01-03T00:00:00Z', 'GET', '/admin/calls', '{}', 200)`);
      await createDatabaseReplayStore(t.db).claim('expired', Date.now() - 1000);

      const counts = await purgeExpired(t.db, 30);
      expect(counts).toMatchObject({ calls: 1, feedback: 1, adminAccess: 1, jwtIds: 1 });
      expect(await findCalls(t.db, { coverageAssertionId: 'old-assertion' })).toEqual([]);
      expect(await findCalls(t.db, { coverageAssertionId: 'recent-assertion' })).toHaveLength(1);
      expect((await t.db.query('SELECT 1 FROM hook_card WHERE call_id = $1', [old.id])).rows).toHaveLength(0);
    });
  });
});

it('runs the storage suite on PostgreSQL in CI (TEST_DATABASE_URL set by .ci/run)', () => {
  // Outside CI, PostgreSQL is optional: `export TEST_DATABASE_URL=$(bash .ci/start-postgres.sh)`.
  const engines = ENGINES.map((e) => e.name);
  if (IN_CI || POSTGRES_URL) expect(engines).toEqual(['pglite', 'postgres']);
  else expect(engines).toEqual(['pglite']);
});

async function openSpool(dir: string, max = 100): Promise<CallSpool> {
  const spool = new CallSpool(dir, max, silentLogger);
  await spool.open();
  return spool;
}

async function spoolFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.call.json'));
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
