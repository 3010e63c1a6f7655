/**
 * Where the patient's record comes from: the prefetch, the embedded FHIR server over HTTP for the
 * keys that are missing, and 412 when it cannot be had. The recording engine shows what the
 * service handed to the evaluator.
 */
import { outcome, messageOf, errorCodeOf } from '../support/operation-outcome';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, FhirResource, Resource } from 'fhir/r4';
import request from 'supertest';
import { startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import {
  closedPort,
  draftBundle,
  fullPrefetch,
  makeApp,
  PATIENT_ID,
  RecordingEngine,
  serviceRequest,
  SIGN,
  signRequest,
  silentServer,
  testConfig,
} from './helpers';

const subject = { reference: `Patient/${PATIENT_ID}` };
const EXTRA_CONDITIONS = 24;
/** Page size of the capping server below: smaller than the Conditions it holds, so fetching must follow `next`. */
const SERVER_PAGE_CAP = 20;

/** What the embedded server holds for the test patient. */
const serverRecord: Resource[] = [
  { resourceType: 'Patient', id: PATIENT_ID, birthDate: '1970-03-01' } as Resource,
  ...Array.from({ length: EXTRA_CONDITIONS + 1 }, (_, i) => ({
    resourceType: 'Condition',
    id: `srv-cond-${i}`,
    subject,
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M96.1' }] },
  }) as Resource),
  {
    resourceType: 'Observation',
    id: 'srv-pain',
    status: 'final',
    subject,
    code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }] },
    valueInteger: 7,
  } as Resource,
  {
    resourceType: 'Observation',
    id: 'srv-penn',
    status: 'final',
    subject,
    code: { coding: [{ system: 'http://intrathecal-cds.example.org/fhir/CodeSystem/spasticity-scales', code: 'penn-spasm-frequency' }] },
  } as Resource,
  {
    // A code no criterion reads: the narrowed prefetch query must leave it out.
    resourceType: 'Observation',
    id: 'srv-heart-rate',
    status: 'final',
    subject,
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
  } as Resource,
  {
    resourceType: 'MedicationRequest',
    id: 'srv-medreq',
    status: 'active',
    intent: 'order',
    subject,
    medicationCodeableConcept: { text: 'gabapentin' },
  } as Resource,
  { resourceType: 'Coverage', id: 'srv-cov-active', status: 'active', beneficiary: subject, payor: [{ display: 'Payer' }] } as Resource,
  { resourceType: 'Coverage', id: 'srv-cov-cancelled', status: 'cancelled', beneficiary: subject, payor: [{ display: 'Payer' }] } as Resource,
];
const serverConditionRefs = Array.from({ length: EXTRA_CONDITIONS + 1 }, (_, i) => `Condition/srv-cond-${i}`);

let fhir: RunningFhirServer;
/** The embedded server behind a proxy that caps `_count`, as servers cap the page size (HAPI FHIR: 20 by default). */
let capped: { baseUrl: string; close(): Promise<void> };

async function cappingProxy(target: string, cap: number): Promise<typeof capped> {
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', target);
    const count = Number(url.searchParams.get('_count') ?? cap);
    url.searchParams.set('_count', String(Math.min(count, cap)));
    fetch(url, { headers: { accept: 'application/fhir+json' } })
      .then(async (upstream) => {
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/fhir+json' });
        // Its `next` links name the proxy, as a server behind a gateway does.
        res.end((await upstream.text()).replaceAll(new URL(target).origin, origin));
      })
      .catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}${new URL(target).pathname}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

beforeAll(async () => {
  fhir = await startFhirServer({ port: 0 });
  // A batch: the embedded server takes at most 50 updates per transaction.
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'batch',
    entry: serverRecord.map((resource) => ({
      resource: resource as FhirResource,
      request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
    })),
  };
  const res = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
  expect(res.status).toBe(200);
  capped = await cappingProxy(fhir.baseUrl, SERVER_PAGE_CAP);
});

afterAll(async () => {
  await capped.close();
  await fhir.close();
});

async function withApp<T>(engine: RecordingEngine, run: (app: ReturnType<typeof makeApp>) => Promise<T>, overrides = {}): Promise<T> {
  const app = makeApp(engine, { config: testConfig(overrides) });
  try {
    return await run(app);
  } finally {
    await app.closeResources();
  }
}

describe('full prefetch', () => {
  it('evaluates with what arrived and needs no fhirServer', async () => {
    const engine = new RecordingEngine();
    await withApp(engine, async (app) => {
      const res = await request(app).post(SIGN).send(signRequest()).expect(200);
      expect(res.body.cards).toHaveLength(1);
    });
    expect(engine.recordRefs()).toEqual(
      [`Patient/${PATIENT_ID}`, 'Condition/pre-cond-1', 'Observation/pre-obs-1', 'Coverage/pre-cov-1'].sort(),
    );
    const { options } = engine.calls[0];
    expect(options?.callDate).toBe(new Date().toISOString().slice(0, 10));
    expect(options?.policy).toBe('2022T0626C');
    expect(options?.draftOrders?.map((r) => `${r.resourceType}/${r.id}`)).toEqual(['ServiceRequest/pump-1']);
  });

  it('hands the evaluator every draft order, not only the one evaluated', async () => {
    const engine = new RecordingEngine();
    const med = { resourceType: 'MedicationRequest', id: 'draft-med', status: 'draft', intent: 'order', subject, medicationCodeableConcept: { text: 'morphine' } };
    await withApp(engine, (app) =>
      request(app).post(SIGN).send(signRequest({}, { draftOrders: draftBundle(serviceRequest('pump-1'), med as Resource) })).expect(200),
    );
    expect(engine.calls).toHaveLength(1);
    expect(engine.calls[0].options?.draftOrders?.map((r) => r.id)).toEqual(['pump-1', 'draft-med']);
  });
});

describe('no prefetch', () => {
  it('fetches every template from the FHIR server, following next pages, with the narrowed Observation query', async () => {
    const engine = new RecordingEngine();
    await withApp(engine, (app) =>
      request(app).post(SIGN).send(signRequest({ prefetch: undefined, fhirServer: capped.baseUrl })).expect(200),
    );
    expect(engine.recordRefs()).toEqual(
      [
        `Patient/${PATIENT_ID}`,
        ...serverConditionRefs,
        'Observation/srv-pain',
        'Observation/srv-penn',
        'MedicationRequest/srv-medreq',
        'Coverage/srv-cov-active',
      ].sort(),
    );
  });

  it('stops at the page limit, and the card says the record behind it is partial', async () => {
    const engine = new RecordingEngine();
    const res = await withApp(
      engine,
      (app) => request(app).post(SIGN).send(signRequest({ prefetch: undefined, fhirServer: capped.baseUrl })).expect(200),
      { fhirMaxPages: 1 },
    );
    const conditions = engine.recordRefs().filter((ref) => ref.startsWith('Condition/'));
    // One page of the server's cap (20) out of 25.
    expect(conditions.length).toBeLessThan(serverConditionRefs.length);
    expect(conditions.length).toBeGreaterThan(0);
    expect(res.body.cards.length).toBeGreaterThan(0);
    for (const card of res.body.cards) expect(card.detail).toContain('Part of the record was not read (conditions');
  });

  it('answers 412 naming the missing keys when there is no fhirServer', async () => {
    const engine = new RecordingEngine();
    const res = await withApp(engine, (app) => request(app).post(SIGN).send(signRequest({ prefetch: undefined })).expect(412));
    expect(res.body).toEqual(outcome('prefetch-unavailable', expect.stringMatching(/^prefetch patient, .*conditions, .* missing and no fhirServer given/)));
    expect(engine.calls).toHaveLength(0);
  });
});

describe('partial prefetch', () => {
  it('uses the keys that arrived and fetches only the others', async () => {
    const engine = new RecordingEngine();
    const prefetch = fullPrefetch();
    delete prefetch.observations;
    delete prefetch.coverage;
    await withApp(engine, (app) => request(app).post(SIGN).send(signRequest({ prefetch, fhirServer: fhir.baseUrl })).expect(200));
    expect(engine.recordRefs()).toEqual(
      [`Patient/${PATIENT_ID}`, 'Condition/pre-cond-1', 'Observation/srv-pain', 'Observation/srv-penn', 'Coverage/srv-cov-active'].sort(),
    );
  });

  it('takes a key sent as null to mean "no data" and does not fetch it', async () => {
    const engine = new RecordingEngine();
    const prefetch = { ...fullPrefetch(), observations: null };
    await withApp(engine, (app) => request(app).post(SIGN).send(signRequest({ prefetch })).expect(200));
    expect(engine.recordRefs().some((ref) => ref.startsWith('Observation/'))).toBe(false);
  });

  it('fetches a key whose prefetch is an OperationOutcome', async () => {
    const engine = new RecordingEngine();
    const prefetch = {
      ...fullPrefetch(),
      medicationRequests: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] } as Resource,
    };
    await withApp(engine, (app) => request(app).post(SIGN).send(signRequest({ prefetch, fhirServer: fhir.baseUrl })).expect(200));
    expect(engine.recordRefs()).toContain('MedicationRequest/srv-medreq');
    expect(engine.recordRefs().some((ref) => ref.startsWith('OperationOutcome/'))).toBe(false);
  });
});

describe('FHIR server failures', () => {
  const noPrefetch = (fhirServer: string) => signRequest({ prefetch: undefined, fhirServer });

  it('answers 412 when the FHIR server refuses connections', async () => {
    const port = await closedPort();
    const engine = new RecordingEngine();
    const res = await withApp(engine, (app) => request(app).post(SIGN).send(noPrefetch(`http://127.0.0.1:${port}/fhir`)).expect(412));
    expect(res.body).toEqual(outcome('prefetch-unavailable', expect.stringContaining('could not be reached')));
    expect(engine.calls).toHaveLength(0);
  });

  it('answers 412 when the FHIR server accepts the connection and never answers', async () => {
    const silent = await silentServer();
    try {
      const engine = new RecordingEngine();
      const res = await withApp(engine, (app) => request(app).post(SIGN).send(noPrefetch(silent.url)).expect(412));
      expect(errorCodeOf(res.body)).toBe('prefetch-unavailable');
    } finally {
      await silent.close();
    }
  }, 6000);

  it.each([401, 403, 500, 503])('answers 412 when the FHIR server answers HTTP %i', async (status) => {
    const server = http.createServer((_req, res) => {
      res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'forbidden' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await withApp(new RecordingEngine(), (app) => request(app).post(SIGN).send(noPrefetch(`http://127.0.0.1:${port}/fhir`)).expect(412));
      expect(messageOf(res.body)).toContain(`HTTP ${status}`);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
