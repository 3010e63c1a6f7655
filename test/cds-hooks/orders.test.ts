/**
 * Which draft orders reach the evaluator and how many cards come back, through HTTP. The
 * recording engine governs orders whose id starts with "pump-" (a stand-in for the CQL's decision).
 */
import type { Resource } from 'fhir/r4';
import { EvaluationStopped } from '../../src/engine/call-evaluator';
import request from 'supertest';
import { closedPort, draftBundle, fullPrefetch, emptyValuePaths, everyOrderGoverned, unreadRecord, makeApp, PATIENT_ID, RecordingEngine, SELECT, selectRequest, serviceRequest, SIGN, signRequest } from './helpers';

const medication = {
  resourceType: 'MedicationRequest',
  id: 'med-1',
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  medicationCodeableConcept: { text: 'morphine' },
} as Resource;
const device = {
  resourceType: 'DeviceRequest',
  id: 'pump-device',
  status: 'draft',
  intent: 'order',
  subject: { reference: `Patient/${PATIENT_ID}` },
  codeCodeableConcept: { coding: [{ system: 'https://bluebutton.cms.gov/resources/codesystem/hcpcs', code: 'E0783' }] },
} as Resource;

let engine: RecordingEngine;
let app: ReturnType<typeof makeApp>;
beforeEach(() => {
  engine = new RecordingEngine();
  app = makeApp(engine);
});
afterEach(() => app.closeResources());

describe('order-sign', () => {
  it('with the whole record in the prefetch, evaluates every ServiceRequest and DeviceRequest once (the phase is decided inside)', async () => {
    const draftOrders = draftBundle(serviceRequest('lab-1'), medication, serviceRequest('pump-1'), device);
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders })).expect(200);
    expect(engine.phaseCalls).toEqual([]);
    expect(engine.calls.map((c) => c.order.id)).toEqual(['lab-1', 'pump-1', 'pump-device']);
    expect(res.body.cards.map((c: any) => c.extension['policy-evaluation'].order)).toEqual(['ServiceRequest/pump-1', 'DeviceRequest/pump-device']);
  });

  it('when the record must be fetched, asks the phase of every ServiceRequest and DeviceRequest first and evaluates only the governed ones', async () => {
    const draftOrders = draftBundle(serviceRequest('lab-1'), medication, serviceRequest('pump-1'), device);
    // One prefetch key left out: it is fetched from the FHIR server (which is unreachable: the answer is then a 412).
    const { [Object.keys(fullPrefetch())[0]]: _left, ...partial } = fullPrefetch();
    const fhirServer = `http://127.0.0.1:${await closedPort()}/fhir`;
    const res = await request(app).post(SIGN).send(signRequest({ prefetch: partial, fhirServer }, { draftOrders }));
    expect(res.status).toBe(412);
    expect(engine.phaseCalls).toEqual(['lab-1', 'pump-1', 'pump-device']);
    expect(engine.calls.map((c) => c.order.id)).not.toContain('lab-1');
  });

  it('does not need the record for orders the policy does not govern (no prefetch, no fhirServer: no 412)', async () => {
    const res = await request(app)
      .post(SIGN)
      .send(signRequest({ prefetch: undefined }, { draftOrders: draftBundle(serviceRequest('lab-1')) }))
      .expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
    expect(engine.calls).toHaveLength(0);
  });

  it('returns one card per governed order, with distinct uuids', async () => {
    const draftOrders = draftBundle(serviceRequest('pump-1'), serviceRequest('pump-2'), serviceRequest('lab-1'));
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders })).expect(200);
    expect(res.body.cards.map((c: any) => c.extension['policy-evaluation'].order)).toEqual(['ServiceRequest/pump-1', 'ServiceRequest/pump-2']);
    const uuids = res.body.cards.flatMap((c: any) => [c.uuid, ...(c.suggestions ?? []).map((s: any) => s.uuid)]);
    expect(new Set(uuids).size).toBe(uuids.length);
  });

  it('answers {"cards": []} for orders the evaluator does not govern', async () => {
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders: draftBundle(serviceRequest('lab-1')) })).expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
  });

  it('does not read the record at all when no order can be a pump order', async () => {
    // No prefetch and no fhirServer: fetching would be a 412.
    const res = await request(app)
      .post(SIGN)
      .send(signRequest({ prefetch: undefined }, { draftOrders: draftBundle(medication) }))
      .expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
    expect(engine.calls).toHaveLength(0);
  });

  it('survives draft orders with missing fields', async () => {
    const bare = { resourceType: 'ServiceRequest' } as Resource;
    const noCode = { resourceType: 'DeviceRequest', id: 'dr-x' } as Resource;
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders: draftBundle(bare, noCode) })).expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
    expect(engine.calls.map((c) => c.order.resourceType)).toEqual(['ServiceRequest', 'DeviceRequest']);
  });

  it('answers an empty draftOrders Bundle with no cards', async () => {
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders: { resourceType: 'Bundle' } })).expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
  });

  it('shows a card saying the check failed for each governed order when the evaluation itself breaks (its thread stopped)', async () => {
    const screenedAs = (id: unknown) => (String(id).startsWith('pump-') ? 'implant' : null);
    const breaking = makeApp(engine, {
      evaluator: {
        screen: async (call) => ({
          orders: call.orders.map((i) => ({ screening: { phase: screenedAs((call.drafts[i] as Resource).id), unreadable: [] } })),
          leftOut: [],
        }),
        evaluate: async () => Promise.reject(new EvaluationStopped('the evaluation thread stopped during the evaluation')),
        close: async () => undefined,
      },
    });
    try {
      const draftOrders = draftBundle(serviceRequest('lab-1'), serviceRequest('pump-1'));
      const res = await request(breaking).post(SIGN).send(signRequest({}, { draftOrders })).expect(200);
      expect(res.body.cards).toHaveLength(1);
      expect(res.body.cards[0].summary).toMatch(/could not be checked/);
      expect(res.body.cards[0].extension).toEqual({ 'davinci-crd.associated-resource': [{ reference: 'ServiceRequest/pump-1' }] });
    } finally {
      await breaking.closeResources();
    }
  });

  it('shows a card saying the check failed when the evaluator reports an error', async () => {
    const failing = makeApp({
      orderPhase: everyOrderGoverned,
      prepareRecord: unreadRecord,
      evaluateOrder: async () => ({ evaluation: null, skipped: [], error: 'the policy could not be evaluated' }),
    });
    try {
      const res = await request(failing).post(SIGN).send(signRequest()).expect(200);
      expect(res.body.cards).toHaveLength(1);
      expect(res.body.cards[0].summary).toMatch(/could not be checked/);
      expect(res.body.cards[0].extension).toEqual({ 'davinci-crd.associated-resource': [{ reference: 'ServiceRequest/pump-1' }] });
      expect(emptyValuePaths(res.body)).toEqual([]);
    } finally {
      await failing.closeResources();
    }
  });
});

describe('order-select', () => {
  it('evaluates only the selected orders', async () => {
    const draftOrders = draftBundle(serviceRequest('pump-1'), serviceRequest('pump-2'), device);
    const res = await request(app).post(SELECT).send(selectRequest(['ServiceRequest/pump-2'], draftOrders)).expect(200);
    expect(engine.calls.map((c) => c.order.id)).toEqual(['pump-2']);
    expect(res.body.cards).toHaveLength(1);
    // The rest of the draft orders still reach the evaluator (the trial-agent rule reads them).
    expect(engine.calls[0].options?.draftOrders?.map((r) => r.id)).toEqual(['pump-1', 'pump-2', 'pump-device']);
  });

  it('answers no cards when the selection holds no ServiceRequest or DeviceRequest', async () => {
    const draftOrders = draftBundle(serviceRequest('pump-1'), medication);
    const res = await request(app).post(SELECT).send(selectRequest(['MedicationRequest/med-1'], draftOrders)).expect(200);
    expect(res.body).toEqual({ cards: [] });
    expect(engine.calls).toHaveLength(0);
  });
});

describe('card shape over HTTP', () => {
  it('has no null or empty value anywhere in the response', async () => {
    const draftOrders = draftBundle(serviceRequest('pump-1'), device);
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders })).expect(200);
    expect(res.body.cards).toHaveLength(2);
    expect(emptyValuePaths(res.body)).toEqual([]);
  });

  it('links to the policy page on the host the request came to', async () => {
    const res = await request(app).post(SIGN).set('Host', 'cds.example.org:8443').send(signRequest()).expect(200);
    const card = res.body.cards[0];
    // The stand-in evaluation has a gap with a suggested order, so the page is named in the detail (no links on such a card).
    expect(card.detail).toContain('](http://cds.example.org:8443/policy/2022T0626C)');
    expect(card.source.url).toBe('http://cds.example.org:8443/policy/2022T0626C');
  });
});
