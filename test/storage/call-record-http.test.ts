/**
 * The call record and the admin API through HTTP, on both engines: a hook call is recorded after
 * it is answered, feedback is stored against its card, the admin API reads both (with its own
 * token, each read itself recorded), the record survives a restart of an embedded database with
 * no server, and a call is answered even while the database is down (the record waits in the spool).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { silentLogger } from '../../src/cds-hooks/logger';
import { buildCallRecord, insertCallRecord } from '../../src/storage/call-record';
import { loadStorageConfig } from '../../src/storage/config';
import type { Database } from '../../src/storage/database';
import { CallSpool } from '../../src/storage/spool';
import { openStorage, storageOn, type Storage } from '../../src/storage/storage';
import { SANDBOX_PAYER } from '../../src/crd/payers';
import { assertionIdsOf } from '../../src/crd/system-actions';
import { fullPrefetch, makeApp, PATIENT_ID, RecordingEngine, SIGN, signRequest } from '../cds-hooks/helpers';
import { ENGINES, emptyTables, type TestDatabase } from './support/engines';
import { callInput, cuttable } from './support/records';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef0123456789';
const ADMIN = { Authorization: `Bearer ${ADMIN_TOKEN}` };
const FEEDBACK = `${SIGN}/feedback`;

async function spoolIn(dir: string): Promise<CallSpool> {
  const spool = new CallSpool(dir, 100, silentLogger);
  await spool.open();
  return spool;
}

/** An order-sign call with the EHR's access token and a Coverage of the configured payer (so a CRD system action). */
function signWithToken(hookInstance: string) {
  const coverage = {
    resourceType: 'Coverage',
    id: 'cov-sandbox',
    status: 'active',
    beneficiary: { reference: `Patient/${PATIENT_ID}` },
    payor: [{ identifier: SANDBOX_PAYER.identifiers[0], display: 'Testpayer' }],
  };
  return signRequest({
    hookInstance,
    prefetch: { ...fullPrefetch(), coverage: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: coverage }] } },
    fhirServer: 'https://ehr.example/fhir',
    fhirAuthorization: { access_token: 'ehr-access-token-never-stored', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' },
  });
}

describe.each(ENGINES)('call record and admin API on $name', (engine) => {
  let t: TestDatabase;
  let dir: string;
  let storage: Storage;
  beforeAll(async () => {
    t = await engine.create();
  });
  afterAll(async () => {
    await t.drop();
  });
  beforeEach(async () => {
    await emptyTables(t.db);
    dir = await mkdtemp(path.join(tmpdir(), 'itp-http-'));
    // Closing this storage must not close the suite's database.
    const db: Database = { ...t.db, close: async () => undefined };
    storage = storageOn(db, await spoolIn(dir), silentLogger, { recorder: { batchDelayMs: 1 } });
  });
  afterEach(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('records an answered hook call, readable by hook instance, card and coverage assertion', async () => {
    const app = makeApp(new RecordingEngine(), { storage, adminToken: ADMIN_TOKEN });
    const hookInstance = randomUUID();
    const answer = await request(app).post(SIGN).send(signWithToken(hookInstance)).expect(200);
    await storage.recorder.flush();

    const read = await request(app).get('/admin/calls').query({ hookInstance }).set(ADMIN).expect(200);
    expect(read.headers['cache-control']).toBe('no-store');
    expect(read.body.calls).toHaveLength(1);
    const [call] = read.body.calls;
    // The CRD module's Coverage Information action carries the assertion id the record must keep.
    const assertionIds = assertionIdsOf(answer.body.systemActions);
    expect(assertionIds).toHaveLength(1);
    expect(call).toMatchObject({
      hookInstance,
      serviceId: 'intrathecal-pump-order-sign',
      outcome: 'cards',
      httpStatus: 200,
      response: answer.body,
      evaluations: [expect.objectContaining({ order: 'ServiceRequest/pump-1' })],
      coverageAssertionIds: assertionIds,
      cards: [{ uuid: answer.body.cards[0].uuid, evaluationIndex: 0 }],
      durationMs: expect.any(Number),
    });
    expect(call.request.fhirAuthorization).toEqual({ token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' });
    expect(JSON.stringify(read.body)).not.toContain('ehr-access-token-never-stored');
    expect(call.recordRead.references).toEqual(expect.arrayContaining(['Patient/hooks-test-patient', 'Coverage/cov-sandbox']));

    const byCard = await request(app).get('/admin/calls').query({ cardUuid: answer.body.cards[0].uuid }).set(ADMIN).expect(200);
    expect(byCard.body.calls.map((c: { id: string }) => c.id)).toEqual([call.id]);

    const byCrdAssertion = await request(app).get('/admin/calls').query({ coverageAssertionId: assertionIds[0] }).set(ADMIN).expect(200);
    expect(byCrdAssertion.body.calls.map((c: { id: string }) => c.id)).toEqual([call.id]);

    // Coverage assertion ids are found wherever the answer carries them.
    const withAssertion = buildCallRecord(callInput({ assertionId: 'crd-assertion-42' }));
    await insertCallRecord(t.db, withAssertion);
    const byAssertion = await request(app).get('/admin/calls').query({ coverageAssertionId: 'crd-assertion-42' }).set(ADMIN).expect(200);
    expect(byAssertion.body.calls).toEqual([expect.objectContaining({ id: withAssertion.id, coverageAssertionIds: ['crd-assertion-42'] })]);

    const { rows } = await t.db.query<{ path: string; status: number; results: number; query: Record<string, string> }>(
      'SELECT path, status, results, query FROM admin_access ORDER BY id',
    );
    expect(rows).toEqual([
      { path: '/admin/calls', status: 200, results: 1, query: { hookInstance } },
      { path: '/admin/calls', status: 200, results: 1, query: { cardUuid: answer.body.cards[0].uuid } },
      { path: '/admin/calls', status: 200, results: 1, query: { coverageAssertionId: assertionIds[0] } },
      { path: '/admin/calls', status: 200, results: 1, query: { coverageAssertionId: 'crd-assertion-42' } },
    ]);
  });

  it('records a refused call with its status', async () => {
    const app = makeApp(new RecordingEngine(), { storage, adminToken: ADMIN_TOKEN });
    const hookInstance = randomUUID();
    await request(app).post(SIGN).send(signRequest({ hookInstance, context: {} })).expect(400);
    await storage.recorder.flush();
    const read = await request(app).get('/admin/calls').query({ hookInstance }).set(ADMIN).expect(200);
    expect(read.body.calls).toEqual([expect.objectContaining({ httpStatus: 400, outcome: 'invalid-request' })]);
  });

  it('stores feedback with its card and summarises it per outcome, criterion and override reason', async () => {
    const app = makeApp(new RecordingEngine(), { storage, adminToken: ADMIN_TOKEN });
    const answer = await request(app).post(SIGN).send(signRequest({ hookInstance: randomUUID() })).expect(200);
    await storage.recorder.flush();
    const card = answer.body.cards[0].uuid;
    const reason = { system: 'http://example.org/override', code: 'patient-declined', display: 'Patient declined' };
    await request(app)
      .post(FEEDBACK)
      .send({ feedback: [{ card, outcome: 'overridden', overrideReason: { reason }, outcomeTimestamp: new Date().toISOString() }] })
      .expect(200);

    const since = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const summary = await request(app).get('/admin/feedback/summary').query({ since }).set(ADMIN).expect(200);
    expect(summary.body).toMatchObject({
      total: 1,
      unlinked: 0,
      byOutcome: [{ outcome: 'overridden', count: 1 }],
      byCriterion: [
        { criterion: 'age-18', status: 'met', outcome: 'overridden', count: 1 },
        { criterion: 'cnmp-psych-clearance', status: 'not-documented', outcome: 'overridden', count: 1 },
      ],
      byOverrideReason: [{ ...reason, count: 1 }],
    });
  });

  it('refuses without the admin token, and names the wrong parameter', async () => {
    const app = makeApp(new RecordingEngine(), { storage, adminToken: ADMIN_TOKEN });
    const hookInstance = randomUUID();
    expect((await request(app).get('/admin/calls').query({ hookInstance })).status).toBe(401);
    expect((await request(app).get('/admin/calls').query({ hookInstance }).set('Authorization', 'Bearer wrong')).status).toBe(401);
    // A CDS client's JWT is not an admin credential either.
    expect((await request(app).get('/admin/calls').query({ hookInstance }).set('Authorization', 'Bearer eyJhbGciOiJFUzM4NCJ9.e30.sig')).status).toBe(401);

    const bad = async (query: Record<string, string>, path = '/admin/calls') => (await request(app).get(path).query(query).set(ADMIN).expect(400)).body.issue[0].diagnostics;
    expect(await bad({ hookInstance: 'not-a-uuid' })).toBe('hookInstance must be a uuid');
    expect(await bad({})).toBe('give exactly one of hookInstance, coverageAssertionId and cardUuid');
    expect(await bad({ hookInstance, cardUuid: hookInstance })).toBe('give exactly one of hookInstance, coverageAssertionId and cardUuid');
    expect(await bad({}, '/admin/feedback/summary')).toMatch(/^since is required/);
    expect(await bad({ since: 'yesterday' }, '/admin/feedback/summary')).toMatch(/^since must be a date/);
    expect(await bad({ since: '2026-02-01', until: '2026-01-01' }, '/admin/feedback/summary')).toBe('until must be after since');
    const { rows } = await t.db.query<{ status: number }>('SELECT status FROM admin_access ORDER BY id');
    expect(rows.map((r) => r.status)).toEqual([400, 400, 400, 400, 400, 400]);
  });

  it('has no admin API without ADMIN_TOKEN', async () => {
    const app = makeApp(new RecordingEngine(), { storage });
    expect((await request(app).get('/admin/calls').query({ hookInstance: randomUUID() }).set(ADMIN)).status).toBe(404);
  });

  it('answers while the database is down; the record waits in the spool and is written when it is back', async () => {
    const db = cuttable({ ...t.db, close: async () => undefined });
    const spoolDir = path.join(dir, 'spool-down');
    const down = storageOn(db, await spoolIn(spoolDir), silentLogger, { recorder: { batchDelayMs: 1, retryMs: 20 } });
    try {
      const app = makeApp(new RecordingEngine(), { storage: down, adminToken: ADMIN_TOKEN });
      db.down = true;
      const hookInstance = randomUUID();
      await request(app).post(SIGN).send(signRequest({ hookInstance })).expect(200);
      await down.recorder.flush();
      expect((await readdir(spoolDir)).filter((n) => n.endsWith('.call.json'))).toHaveLength(1);

      db.down = false;
      for (let i = 0; i < 250 && down.recorder.stats().waitingInSpool > 0; i++) await new Promise((r) => setTimeout(r, 20));
      const read = await request(app).get('/admin/calls').query({ hookInstance }).set(ADMIN).expect(200);
      expect(read.body.calls).toHaveLength(1);
    } finally {
      await down.close();
    }
  });
});

describe('embedded database without a server', () => {
  // Opening an embedded database folder for the first time (initdb in WASM) takes seconds, more on a busy machine.
  it('keeps call records and feedback across a restart', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'itp-data-'));
    const config = loadStorageConfig({ DATA_DIR: dataDir });
    const hookInstance = randomUUID();
    try {
      const first = await openStorage(config, silentLogger);
      const app1 = makeApp(new RecordingEngine(), { storage: first });
      const answer = await request(app1).post(SIGN).send(signRequest({ hookInstance })).expect(200);
      await request(app1)
        .post(FEEDBACK)
        .send({ feedback: [{ card: answer.body.cards[0].uuid, outcome: 'accepted', acceptedSuggestions: [], outcomeTimestamp: new Date().toISOString() }] })
        .expect(200);
      await first.close();

      const second = await openStorage(config, silentLogger);
      try {
        const app2 = makeApp(new RecordingEngine(), { storage: second, adminToken: ADMIN_TOKEN });
        const calls = await request(app2).get('/admin/calls').query({ hookInstance }).set(ADMIN).expect(200);
        expect(calls.body.calls).toEqual([expect.objectContaining({ hookInstance, response: answer.body })]);
        const summary = await request(app2).get('/admin/feedback/summary').query({ since: '2000-01-01' }).set(ADMIN).expect(200);
        expect(summary.body).toMatchObject({ total: 1, byOutcome: [{ outcome: 'accepted', count: 1 }], unlinked: 0 });
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('fails startup clearly when the database cannot be reached', async () => {
    await expect(openStorage(loadStorageConfig({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', DATABASE_TIMEOUT_MS: '1000' }), silentLogger)).rejects.toThrow(
      /^cannot reach the database at DATABASE_URL \(127\.0\.0\.1:1\/none\): .*ECONNREFUSED/,
    );
  });
});
