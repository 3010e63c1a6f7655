/**
 * Issue 8's proof that a policy is data: the toy pack in test/packs/TOY0001 (its own CQL, value sets, hooks entry
 * and texts) is served beside 2022T0626C with no TypeScript change: discovery lists it, a hook call evaluates it
 * with the real engine, its card and its policy page render from its pack.json.
 */
import path from 'node:path';
import request from 'supertest';
import { createApp, type CdsApp } from '../src/app';
import { silentLogger } from '../src/cds-hooks/logger';
import { loadPolicyEngine } from '../src/engine/engine';
import { loadPacks, packRoots, type PolicyPack } from '../src/packs/load-packs';
import { PROJECT_ROOT } from '../src/project-root';
import { allowAnyFhirServer, draftBundle, fullPrefetch, serviceRequest, testConfig } from './cds-hooks/helpers';

const ROOTS = [path.join(PROJECT_ROOT, 'policies'), path.join(PROJECT_ROOT, 'test', 'packs')];
const TOY_SIGN = '/cds-services/toy-weight-order-sign';
const PATIENT = 'toy-patient';

let packs: PolicyPack[];
let app: CdsApp;

beforeAll(async () => {
  packs = loadPacks({ roots: ROOTS });
  const engine = await loadPolicyEngine({ packs });
  app = createApp({ engine, packs, config: testConfig(), logger: silentLogger, fhirServerPolicy: allowAnyFhirServer });
});

afterAll(() => app.closeResources());

const programmeOrder = serviceRequest('toy-order-1', {
  subject: { reference: `Patient/${PATIENT}` },
  authoredOn: '2026-06-15',
  code: { coding: [{ system: 'http://example.org/fhir/CodeSystem/toy-orders', code: 'weight-programme' }] },
});

function weight(id: string, date: string) {
  return {
    resourceType: 'Observation', id, status: 'final', subject: { reference: `Patient/${PATIENT}` }, effectiveDateTime: date,
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: { value: 80, unit: 'kg' },
  };
}

function toyCall(observations: object[]) {
  return {
    hook: 'order-sign',
    hookInstance: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
    context: { userId: 'Practitioner/dr-toy', patientId: PATIENT, draftOrders: draftBundle(programmeOrder) },
    prefetch: {
      patient: { resourceType: 'Patient', id: PATIENT, birthDate: '1980-01-01' },
      observations: { resourceType: 'Bundle', type: 'searchset', entry: observations.map((resource) => ({ resource })) },
    },
  };
}

describe('a second pack served with no TypeScript change', () => {
  it('loads beside 2022T0626C when its folder is named, from POLICY_PACK_DIRS too', () => {
    expect(packs.map((p) => p.id)).toEqual(['2022T0626C', 'TOY0001']);
    expect(packRoots({ POLICY_PACK_DIRS: ROOTS.join(path.delimiter) })).toEqual(ROOTS);
    expect(packRoots({})).toEqual([ROOTS[0]]);
  });

  it('is listed by discovery with the prefetch derived from its CQL', async () => {
    const res = await request(app).get('/cds-services').expect(200);
    const toy = res.body.services.find((s: { id: string }) => s.id === 'toy-weight-order-sign');
    expect(toy.prefetch).toEqual({
      patient: 'Patient/{{context.patientId}}',
      observations: 'Observation?patient={{context.patientId}}&code=http://loinc.org|29463-7,http://loinc.org|39156-5&_count=500',
    });
    expect(res.body.services.map((s: { id: string }) => s.id)).toEqual(
      expect.arrayContaining(['intrathecal-pump-order-select', 'intrathecal-pump-order-sign', 'toy-weight-order-sign']),
    );
  });

  it('evaluates a hook call against its CQL and renders its card from its texts', async () => {
    const res = await request(app).post(TOY_SIGN).send(toyCall([weight('w1', '2026-03-01')])).expect(200);
    expect(res.body.cards).toHaveLength(1);
    const [card] = res.body.cards;
    expect(card.extension['policy-evaluation']).toEqual({
      policy: 'TOY0001',
      order: 'ServiceRequest/toy-order-1',
      code: { system: 'http://example.org/fhir/CodeSystem/toy-orders', code: 'weight-programme' },
      phase: 'enrolment',
      pathway: 'weight-management',
      criteria: [{ id: 'weight-recorded', status: 'met', evidence: ['Observation/w1'], note: 'body weight on record' }],
    });
    expect(card.indicator).toBe('info');
    expect(card.summary).toBe('Weight-management enrolment (TOY weight-programme): all 1 criteria of policy TOY0001 met or not applicable');
    expect(card.links[0].url).toMatch(/\/policy\/TOY0001$/);
    expect(card.detail).toContain('Indication: **weight management**.');
    expect(card.detail).toMatch(/Met:\*\* Body weight recorded/);
  });

  it('offers its own suggestion and override reasons for a gap', async () => {
    const res = await request(app).post(TOY_SIGN).send(toyCall([weight('w-old', '2025-06-01')])).expect(200);
    const [card] = res.body.cards;
    expect(card.extension['policy-evaluation'].criteria).toEqual([
      { id: 'weight-recorded', status: 'not-documented', note: 'no body weight in the look-back window' },
    ]);
    expect(card.indicator).toBe('warning');
    expect(card.detail).toContain('record a body weight.');
    expect(card.suggestions.map((s: { label: string }) => s.label)).toEqual(['Order a weight check']);
    expect(card.overrideReasons.map((c: { code: string }) => c.code)).toEqual(['weighed-today']);
  });

  it('renders its policy page from its pack, windows from its CQL', async () => {
    const res = await request(app).get('/policy/TOY0001').expect(200).expect('Content-Type', /text\/html/);
    expect(res.text).toContain('Toy weight-management programme: what this service checks');
    expect(res.text).toContain('<code>weight-recorded</code>');
    expect(res.text).toContain('A final body weight or BMI observation dated in the 6 months before the order.');
    await request(app).get('/policy/2022T0626C').expect(200);
  });

  it('leaves each order to the pack whose service was called: a programme order sent to 2022T0626C gets no card', async () => {
    const res = await request(app)
      .post('/cds-services/intrathecal-pump-order-sign')
      .send({ ...toyCall([]), prefetch: fullPrefetch() })
      .expect(200);
    expect(res.body.cards).toEqual([]);
  });
});
