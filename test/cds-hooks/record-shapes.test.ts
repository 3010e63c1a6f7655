/**
 * Records and orders in shapes real EHRs send (issue 9), through the whole service with the real engine: valid
 * FHIR R4 is read whatever its shape; what cannot be read is left out, the card says so, the log counts it by
 * resource type and reason; and an order the service cannot read gets a card that says so instead of silence.
 */
import type { Resource } from 'fhir/r4';
import request from 'supertest';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine, PolicyEvaluation } from '../../src/engine/types';
import { createLogger } from '../../src/logging/logger';
import type { Card } from '../../src/cds-hooks/types';
import { draftBundle, fullPrefetch, makeApp, PATIENT_ID, serviceRequest, SIGN, signRequest } from './helpers';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const subject = { reference: `Patient/${PATIENT_ID}` };
const CPT = 'http://www.ama-assn.org/go/cpt';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const searchset = (...resources: object[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });
const evaluationOf = (card: Card) => card.extension?.['policy-evaluation'] as PolicyEvaluation | undefined;

/** A record on the CNMP pathway, with every shape issue 9 found dropped by the old key-name checks. */
function prefetch(extra: { conditions?: object[] } = {}): Record<string, unknown> {
  return {
    ...fullPrefetch(),
    conditions: searchset(
      { resourceType: 'Condition', id: 'cnmp-1', subject, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M96.1' }] } },
      ...(extra.conditions ?? []),
    ),
    allergies: searchset({ resourceType: 'AllergyIntolerance', id: 'allergy-1', patient: subject, category: ['medication'], type: 'intolerance', code: { text: 'codeine' } }),
    medicationStatements: searchset({ resourceType: 'MedicationStatement', id: 'ms-1', status: 'active', subject, category: { text: 'outpatient' }, medicationCodeableConcept: { text: 'gabapentin 300 mg' }, effectivePeriod: { start: '2025-01-01' } }),
    medicationRequests: searchset({
      resourceType: 'MedicationRequest', id: 'mr-1', status: 'active', intent: 'order', subject, authoredOn: '2025-01-01',
      medicationCodeableConcept: { coding: [{ system: RXNORM, code: '310431', display: 'gabapentin 300 MG Oral Capsule' }] },
      dosageInstruction: [{ timing: { repeat: { frequency: 3, period: 1.0, periodUnit: 'd' } } }],
    }),
  };
}

const trialOrder = serviceRequest('trial-1', { code: { coding: [{ system: CPT, code: '62327' }] } });
const morphine = {
  resourceType: 'MedicationRequest', id: 'morphine-1', status: 'draft', intent: 'order', subject,
  medicationCodeableConcept: { coding: [{ system: RXNORM, code: '7052', display: 'morphine' }] },
  dosageInstruction: [{ route: { text: 'intrathecal' }, timing: { repeat: { frequency: 1, period: 4.0, periodUnit: 'h' } } }],
};

test('a 62327 trial whose draft morphine order has an ordinary dosage timing gets its card, nothing left out', async () => {
  const res = await request(makeApp(engine)).post(SIGN).send(signRequest({ prefetch: prefetch() }, { draftOrders: draftBundle(trialOrder, morphine as Resource) })).expect(200);
  expect(res.body.cards).toHaveLength(1);
  expect(evaluationOf(res.body.cards[0])).toMatchObject({ order: 'ServiceRequest/trial-1', phase: 'trial', pathway: 'chronic-non-malignant-pain' });
  expect(res.body.cards[0].detail).not.toMatch(/Evidence left out/);
});

test('a 62362 order with an occurrenceTiming gets its card', async () => {
  const pump = serviceRequest('pump-timed', { occurrenceTiming: { repeat: { count: 1, period: 1.5, periodUnit: 'd' } } });
  const res = await request(makeApp(engine)).post(SIGN).send(signRequest({ prefetch: prefetch() }, { draftOrders: draftBundle(pump) })).expect(200);
  expect(res.body.cards.map((c: Card) => evaluationOf(c)?.order)).toEqual(['ServiceRequest/pump-timed']);
});

test('an unreadable element of the record is left out; the card says so and the log counts it by type and reason', async () => {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const broken = { resourceType: 'Condition', id: 'cond-broken', subject, onsetDateTime: 'last spring', code: { text: 'back pain' } };
  const app = makeApp(engine, { logger });
  const res = await request(app).post(SIGN).send(signRequest({ prefetch: prefetch({ conditions: [broken] }) })).expect(200);
  expect(res.body.cards).toHaveLength(1);
  expect(res.body.cards[0].detail).toMatch(/Evidence left out: 1 entry of the record could not be read/);
  const partial = lines.find((l) => l.msg === 'hook call read partial data');
  expect(partial?.leftOut).toEqual({ Condition: { 'element: invalid date or time': 1 } });
  expect(JSON.stringify(lines)).not.toContain('last spring');
  expect(JSON.stringify(lines)).not.toContain('cond-broken');
});

test('an order whose code cannot be read gets a card saying the check could not be done, not silence', async () => {
  const unreadable = { ...serviceRequest('pump-unreadable'), code: '62362' } as unknown as Resource;
  const res = await request(makeApp(engine)).post(SIGN).send(signRequest({ prefetch: prefetch() }, { draftOrders: draftBundle(unreadable) })).expect(200);
  expect(res.body.cards).toHaveLength(1);
  expect(res.body.cards[0].summary).toMatch(/could not be checked/);
  expect(res.body.cards[0].detail).toMatch(/ServiceRequest\/pump-unreadable.*could not be read \(code\)/);
});

test('an order the policy does not govern, read whole, still gets no card', async () => {
  const mri = serviceRequest('mri-1', { code: { coding: [{ system: CPT, code: '72148' }] }, occurrenceTiming: { repeat: { period: 2.5, periodUnit: 'wk' } } });
  const res = await request(makeApp(engine)).post(SIGN).send(signRequest({ prefetch: prefetch() }, { draftOrders: draftBundle(mri) })).expect(200);
  expect(res.body.cards).toEqual([]);
});
