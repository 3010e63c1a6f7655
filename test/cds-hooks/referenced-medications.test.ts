/**
 * Medications by reference (issue 9 item 2): separate Medication resources that the draft orders or the record name
 * by `medicationReference` and that the data at hand lacks are read from the EHR's FHIR server (the embedded one,
 * over HTTP) in one batched search; contained ones and ones already sent are not fetched.
 */
import type { Bundle, FhirResource, Resource } from 'fhir/r4';
import request from 'supertest';
import { createFhirFetcher, type FhirFetcher } from '../../src/fhir-client/fhir-fetch';
import { missingMedicationIds } from '../../src/cds-hooks/referenced-medications';
import { startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import { draftBundle, fullPrefetch, makeApp, PATIENT_ID, RecordingEngine, serviceRequest, SIGN, signRequest } from './helpers';

const subject = { reference: `Patient/${PATIENT_ID}` };
const medication = (id: string, text: string): Resource => ({ resourceType: 'Medication', id, code: { text } }) as Resource;
const orderOf = (id: string, reference: string, resourceType = 'MedicationRequest'): Resource =>
  ({ resourceType, id, status: 'active', intent: 'order', subject, medicationReference: { reference } }) as Resource;

describe('missingMedicationIds', () => {
  test('separate Medications not held, each once; contained, held and foreign ones are not', () => {
    const resources = [
      orderOf('a', 'Medication/m1'),
      orderOf('b', 'Medication/m1'),
      orderOf('c', '#contained-1'),
      orderOf('d', 'Medication/m2', 'MedicationStatement'),
      orderOf('e', 'http://ehr.example/fhir/Medication/m3/_history/2'),
      orderOf('f', 'http://other.example/fhir/Medication/m4'),
      orderOf('g', 'Medication/held'),
      orderOf('h', 'Medication/bad id'),
      { resourceType: 'MedicationRequest', id: 'i', medicationCodeableConcept: { text: 'morphine' } },
      null,
    ];
    expect(missingMedicationIds(resources, [medication('held', 'x')], 'http://ehr.example/fhir/')).toEqual(['m1', 'm2', 'm3']);
  });
});

describe('through the service, against the embedded FHIR server', () => {
  let fhir: RunningFhirServer;
  const queries: string[] = [];
  let fetcher: FhirFetcher;

  beforeAll(async () => {
    fhir = await startFhirServer();
    const seed: Bundle = {
      resourceType: 'Bundle', type: 'batch',
      entry: [medication('morphine-vial', 'morphine'), medication('gabapentin-300', 'gabapentin'), medication('duloxetine-60', 'duloxetine')].map((resource) => ({
        resource: resource as FhirResource, request: { method: 'PUT', url: `Medication/${resource.id}` },
      })),
    };
    const res = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(seed) });
    expect(res.status).toBe(200);
    const real = createFhirFetcher({ timeoutMs: 10_000, maxPages: 10, maxResponseBytes: 1 << 20 });
    fetcher = { fetch: (q) => (queries.push(q.query), real.fetch(q)), close: () => real.close() };
  });

  afterAll(async () => {
    await fetcher.close();
    await fhir.close();
  });

  beforeEach(() => {
    queries.length = 0;
  });

  test("the draft orders' and the record's Medications are read, one search each, and reach the engine", async () => {
    const engine = new RecordingEngine();
    const app = makeApp(engine, { fhirFetcher: fetcher });
    const prefetch = {
      ...fullPrefetch(),
      medicationRequests: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: orderOf('mr-1', 'Medication/gabapentin-300') }, { resource: orderOf('mr-2', '#inline') }] },
      medicationStatements: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: orderOf('ms-1', 'Medication/duloxetine-60', 'MedicationStatement') }] },
    };
    const drafts = draftBundle(serviceRequest('pump-1'), { ...orderOf('draft-agent', 'Medication/morphine-vial'), status: 'draft' } as Resource);
    const res = await request(app).post(SIGN).send(signRequest({ prefetch, fhirServer: fhir.baseUrl }, { draftOrders: drafts })).expect(200);
    expect(res.body.cards).toHaveLength(1);
    expect(queries).toEqual(['Medication?_id=morphine-vial', 'Medication?_id=gabapentin-300,duloxetine-60']);
    expect(engine.recordRefs()).toEqual(expect.arrayContaining(['Medication/duloxetine-60', 'Medication/gabapentin-300', 'Medication/morphine-vial']));
  });

  test('nothing is fetched when every Medication referenced was sent, or is contained', async () => {
    const engine = new RecordingEngine();
    const app = makeApp(engine, { fhirFetcher: fetcher });
    const prefetch = {
      ...fullPrefetch(),
      medicationRequests: {
        resourceType: 'Bundle', type: 'searchset',
        entry: [{ resource: orderOf('mr-1', 'Medication/gabapentin-300') }, { resource: medication('gabapentin-300', 'gabapentin'), search: { mode: 'include' } }],
      },
    };
    await request(app).post(SIGN).send(signRequest({ prefetch, fhirServer: fhir.baseUrl })).expect(200);
    expect(queries).toEqual([]);
    expect(engine.recordRefs()).toContain('Medication/gabapentin-300');
  });

  test('a failed search for them is a 412 naming what could not be read', async () => {
    const app = makeApp(new RecordingEngine(), { fhirFetcher: fetcher });
    const prefetch = { ...fullPrefetch(), medicationRequests: { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: orderOf('mr-1', 'Medication/gabapentin-300') }] } };
    const res = await request(app).post(SIGN).send(signRequest({ prefetch, fhirServer: 'http://127.0.0.1:9/fhir' })).expect(412);
    expect(JSON.stringify(res.body)).toMatch(/Medications/);
  });
});
