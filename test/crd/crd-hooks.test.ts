/**
 * The service as a Da Vinci CRD 2.2 server over HTTP (criteria.md section 5): Coverage Information
 * system actions on both hooks, the client's configuration, the Coverage and payer rules, technical
 * failures as `indeterminate`, and discovery. The evaluations come from a stand-in engine (what the
 * service does with each kind of result is under test here; the CQL is tested in test/policy/).
 * Every system action and suggested order is validated against the CRD profiles.
 */
import type { Bundle, Coverage, DeviceRequest, Extension, FhirResource, Resource, ServiceRequest } from 'fhir/r4';
import request from 'supertest';
import type { PolicyEvaluation, DraftOrder } from '../../src/engine/types';
import type { Card } from '../../src/cds-hooks/types';
import type { SystemAction } from '../../src/crd/system-actions';
import { COVERAGE_INFORMATION_URL } from '../../src/crd/coverage-information';
import { SANDBOX_PAYER } from '../../src/crd/payers';
import { closedPort, draftBundle, fullPrefetch, makeApp, PATIENT_ID, RecordingEngine, SELECT, serviceRequest, SIGN, signRequest, testConfig, unreadRecord } from '../cds-hooks/helpers';
import { errorCodeOf, messageOf } from '../support/operation-outcome';
import { validateCoverageInformation, validateOrderProfile } from './support/structure-validator';
import { runHookCall } from '../../src/cds-hooks/hook-call';
import { inProcessEvaluator } from '../../src/engine/call-evaluator';
import { loadServiceCatalog } from '../../src/cds-hooks/service-definitions';
import { validateHookRequest } from '../../src/cds-hooks/validate-request';
import { loadPacks } from '../../src/packs/load-packs';

const PAYER_ID = SANDBOX_PAYER.identifiers[0];
const subject = { reference: `Patient/${PATIENT_ID}` };

/** A pump order as CRD wants it: with its date and requester. */
function order(id: string, overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return serviceRequest(id, { authoredOn: '2026-06-15', requester: { reference: 'Practitioner/hooks-test-dr' }, ...overrides });
}

const pumpDevice: DeviceRequest = {
  resourceType: 'DeviceRequest',
  id: 'pump-device',
  status: 'draft',
  intent: 'order',
  codeCodeableConcept: { coding: [{ system: 'https://bluebutton.cms.gov/resources/codesystem/hcpcs', code: 'E0783' }] },
  subject,
  authoredOn: '2026-06-15',
  requester: { reference: 'Practitioner/hooks-test-dr' },
};

function coverage(id: string, payorIdentifier: { system: string; value: string } | null = PAYER_ID, overrides: Partial<Coverage> = {}): Coverage {
  return {
    resourceType: 'Coverage',
    id,
    status: 'active',
    beneficiary: subject,
    payor: [payorIdentifier ? { identifier: payorIdentifier, display: 'Testpayer' } : { display: 'Some payer' }],
    ...overrides,
  };
}

function searchset(...resources: Resource[]): Bundle {
  return { resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource: resource as FhirResource })) };
}

/** A full prefetch whose `coverage` key holds these Coverages. */
function prefetchWith(...coverages: Coverage[]): Record<string, Resource | null> {
  return { ...fullPrefetch(), coverage: searchset(...coverages) };
}

const criteria = {
  gap: [
    { id: 'age-18', status: 'met' as const, note: 'age 54' },
    { id: 'cnmp-psych-clearance', status: 'not-documented' as const, note: 'no psychological evaluation' },
  ],
  notMet: [
    { id: 'age-18', status: 'met' as const },
    { id: 'cnmp-trial-pain-reduction-50', status: 'not-met' as const, note: 'NRS 8 -> 6: 25% reduction' },
  ],
  clean: [{ id: 'age-18', status: 'met' as const }],
};

/** Governs orders whose id starts with "pump-"; the criteria follow the id ("pump-notmet-…", "pump-clean-…", else a gap). */
function evaluationFor(o: DraftOrder): PolicyEvaluation | null {
  if (!o.id?.startsWith('pump-')) return null;
  const kind = o.id.startsWith('pump-notmet') ? 'notMet' : o.id.startsWith('pump-clean') ? 'clean' : 'gap';
  return {
    policy: '2022T0626C',
    order: `${o.resourceType}/${o.id}`,
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
    phase: 'implant',
    pathway: 'chronic-non-malignant-pain',
    criteria: criteria[kind],
  };
}

const strict = () => makeApp(new RecordingEngine(evaluationFor), { config: testConfig({ crd: { payer: SANDBOX_PAYER, requireCoverage: true } }) });
const sandbox = () => makeApp(new RecordingEngine(evaluationFor), { config: testConfig({ crd: { payer: SANDBOX_PAYER, requireCoverage: false } }) });

function coverageInfoOf(action: SystemAction): Extension {
  const found = (action.resource.extension ?? []).filter((e) => e.url === COVERAGE_INFORMATION_URL);
  expect(found).toHaveLength(1);
  return found[0];
}
const sub = (ext: Extension, url: string) => ext.extension!.filter((e) => e.url === url);

/** Every system action and every suggested order of an answer, against the CRD profiles. */
function expectValidAgainstCrdProfiles(body: { cards: Card[]; systemActions?: SystemAction[] }): void {
  for (const action of body.systemActions ?? []) {
    expect(action.type).toBe('update');
    const profile = action.resource.resourceType === 'DeviceRequest' ? 'StructureDefinition-profile-devicerequest.json' : 'StructureDefinition-profile-servicerequest.json';
    expect({ order: action.resource.id, issues: validateOrderProfile(action.resource, profile) }).toEqual({ order: action.resource.id, issues: [] });
    expect(validateCoverageInformation(coverageInfoOf(action))).toEqual([]);
  }
  for (const card of body.cards) {
    for (const s of card.suggestions ?? []) {
      for (const a of s.actions) expect(validateOrderProfile(a.resource, 'StructureDefinition-profile-servicerequest.json')).toEqual([]);
    }
  }
}

describe('order-sign (a CRD primary hook)', () => {
  const app = strict();
  afterAll(() => app.closeResources());

  it('returns one Coverage Information system action per evaluated order, and none for other orders', async () => {
    const lab = order('lab-1', { code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] } });
    const draftOrders = draftBundle(order('pump-1'), lab, pumpDevice);
    const res = await request(app).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders })).expect(200);
    expect(res.body.cards).toHaveLength(2);
    const actions: SystemAction[] = res.body.systemActions;
    expect(actions.map((a) => `${a.resource.resourceType}/${a.resource.id}`)).toEqual(['ServiceRequest/pump-1', 'DeviceRequest/pump-device']);
    // The order as received, unchanged but for the added extension (CRD resp-37).
    const { extension, ...rest } = actions[0].resource;
    expect(rest).toEqual(order('pump-1'));
    expect(extension).toHaveLength(1);
    const ext = coverageInfoOf(actions[0]);
    expect(sub(ext, 'coverage')).toEqual([{ url: 'coverage', valueReference: { reference: 'Coverage/cov-1' } }]);
    expect(sub(ext, 'date')[0].valueDate).toBe(new Date().toISOString().slice(0, 10));
    expect(sub(ext, 'detail')[0].extension).toContainEqual({ url: 'value', valueUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/policy\/2022T0626C$/) });
    expectValidAgainstCrdProfiles(res.body);
    for (const card of res.body.cards as Card[]) expect(card.source.label).toBe(SANDBOX_PAYER.insurer);
  });

  it('gives every assertion a new coverage-assertion-id, across orders and calls', async () => {
    const draftOrders = draftBundle(order('pump-1'), order('pump-2'));
    const body = signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders });
    const first = await request(app).post(SIGN).send(body).expect(200);
    const second = await request(app).post(SIGN).send(body).expect(200);
    const ids = [...first.body.systemActions, ...second.body.systemActions].map((a: SystemAction) => sub(coverageInfoOf(a), 'coverage-assertion-id')[0].valueString);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(4);
  });

  it('always answers a systemActions array, empty when no order is governed', async () => {
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders: draftBundle(order('lab-1')) })).expect(200);
    expect(res.body).toEqual({ cards: [], systemActions: [] });
  });

  it('replaces a coverage-information extension the order already carries and keeps its other extensions', async () => {
    const other = { url: 'http://example.org/ext', valueString: 'kept' };
    const old = { url: COVERAGE_INFORMATION_URL, extension: [{ url: 'covered', valueCode: 'conditional' }] };
    const draftOrders = draftBundle(order('pump-1', { extension: [other, old] }));
    const res = await request(app).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders })).expect(200);
    const ext = res.body.systemActions[0].resource.extension as Extension[];
    expect(ext).toHaveLength(2);
    expect(ext[0]).toEqual(other);
    expect(sub(ext[1], 'covered')[0].valueCode).toBe('covered');
  });

  it('sends no update when the order already carries the same assertion (CRD resp-35), and one when it changed', async () => {
    const body = (o: ServiceRequest) => signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders: draftBundle(o) });
    // One host, as an EHR sees it (supertest would give each call its own port, so another policy-link URL).
    const send = (o: ServiceRequest) => request(app).post(SIGN).set('Host', 'cds.example.org').send(body(o));
    const first = await send(order('pump-1')).expect(200);
    const annotated = first.body.systemActions[0].resource as ServiceRequest;
    const again = await send(annotated).expect(200);
    expect(again.body.systemActions).toEqual([]);
    expect(again.body.cards).toHaveLength(1);
    // The same order now judged differently (its criteria are no longer a gap): a new assertion.
    const changed = await send({ ...annotated, id: 'pump-clean-1' }).expect(200);
    expect(changed.body.systemActions).toHaveLength(1);
    expect(changed.body.systemActions[0].resource.extension).toHaveLength(1);
  });

  it('answers not-covered naming the criterion not met, and covered with documentation needed for a gap', async () => {
    const draftOrders = draftBundle(order('pump-notmet-1'), order('pump-gap-1'), order('pump-clean-1'));
    const res = await request(app).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders })).expect(200);
    const [notMet, gap, clean] = (res.body.systemActions as SystemAction[]).map(coverageInfoOf);
    expect(sub(notMet, 'covered')[0].valueCode).toBe('not-covered');
    expect(sub(notMet, 'pa-needed')).toEqual([]);
    expect(sub(notMet, 'reason')[0].valueCodeableConcept!.text).toContain('cnmp-trial-pain-reduction-50');
    expect(sub(gap, 'doc-needed')[0].valueCode).toBe('clinical');
    expect(sub(gap, 'doc-purpose')[0].valueCode).toBe('withpa');
    expect(sub(clean, 'pa-needed')[0].valueCode).toBe('auth-needed');
    expect(sub(clean, 'doc-needed')).toEqual([]);
    expectValidAgainstCrdProfiles(res.body);
  });

  it('answers 422 when a governed draft order has no id to update (CRD found-36)', async () => {
    const { id: _id, ...anonymous } = order('pump-1');
    const engine = new RecordingEngine(() => evaluationFor(order('pump-1')));
    const anyOrder = makeApp(engine, { config: testConfig({ crd: { payer: SANDBOX_PAYER, requireCoverage: true } }) });
    try {
      const res = await request(anyOrder).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders: draftBundle(anonymous as Resource) })).expect(422);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(messageOf(res.body)).toMatch(/^context\.draftOrders: ServiceRequest without id/);
    } finally {
      await anyOrder.closeResources();
    }
  });
});

describe('order-select (a CRD secondary hook)', () => {
  const app = strict();
  afterAll(() => app.closeResources());
  const draftOrders = draftBundle(order('pump-1'));
  const body = (extension?: Record<string, unknown>) => ({
    ...signRequest({ hook: 'order-select', prefetch: prefetchWith(coverage('cov-1')), ...(extension && { extension }) }, { draftOrders, selections: ['ServiceRequest/pump-1'] }),
  });

  it('returns no coverage information unless the client asks for it', async () => {
    const res = await request(app).post(SELECT).send(body()).expect(200);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.systemActions).toBeUndefined();
  });

  it('returns it when configured, without asking for clinical or administrative documentation (CRD hook-19)', async () => {
    const res = await request(app).post(SELECT).send(body({ 'davinci-crd.configuration': { 'coverage-info': true } })).expect(200);
    expect(res.body.systemActions).toHaveLength(1);
    const ext = coverageInfoOf(res.body.systemActions[0]);
    expect(sub(ext, 'covered')[0].valueCode).toBe('covered');
    expect(sub(ext, 'doc-needed')).toEqual([]);
    expectValidAgainstCrdProfiles(res.body);
  });
});

describe('configuration per request (extension["davinci-crd.configuration"])', () => {
  const app = strict();
  afterAll(() => app.closeResources());
  const send = (configuration: unknown, draftOrders = draftBundle(order('pump-1'), order('pump-clean-1'))) =>
    request(app).post(SIGN).send({ ...signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders }), extension: { 'davinci-crd.configuration': configuration } });

  it('coverage-info false: no system action, and systemActions still present', async () => {
    const res = await send({ 'coverage-info': false }).expect(200);
    expect(res.body.systemActions).toEqual([]);
    expect(res.body.cards).toHaveLength(2);
  });

  it('clinical-reminder false: no suggested orders; the card becomes a guideline card with the policy link', async () => {
    const res = await send({ 'clinical-reminder': false }).expect(200);
    expect(res.body.cards).toHaveLength(2);
    for (const card of res.body.cards as Card[]) {
      expect(card.suggestions).toBeUndefined();
      expect(card.source.topic?.code).toBe('guideline');
      expect(card.links).toHaveLength(1);
    }
  });

  it('guideline false: only cards of other types (here the one with a suggested order)', async () => {
    const res = await send({ guideline: false }).expect(200);
    expect((res.body.cards as Card[]).map((c) => c.source.topic?.code)).toEqual(['clinical-reminder']);
    expect(res.body.systemActions).toHaveLength(2);
  });

  it('max-cards limits the cards, not the system actions', async () => {
    const res = await send({ 'max-cards': 1 }).expect(200);
    expect(res.body.cards).toHaveLength(1);
    expect(res.body.systemActions).toHaveLength(2);
    expect((await send({ 'max-cards': 0 }).expect(200)).body.cards).toEqual([]);
  });

  it('ignores options it does not offer (CRD dev-17)', async () => {
    const res = await send({ cost: false, 'unsolicited-determ': false, 'some-vendor-flag': 'x' }).expect(200);
    expect(res.body.cards).toHaveLength(2);
    expect(res.body.systemActions).toHaveLength(2);
  });

  it.each([
    [{ 'coverage-info': 'no' }, 'extension.davinci-crd.configuration.coverage-info must be a boolean'],
    [{ 'max-cards': -1 }, 'extension.davinci-crd.configuration.max-cards must be a non-negative integer'],
    [{ 'max-cards': 2.5 }, 'extension.davinci-crd.configuration.max-cards must be a non-negative integer'],
    [['coverage-info'], 'extension.davinci-crd.configuration must be an object'],
  ])('answers 422 with an OperationOutcome naming the option for %j', async (configuration, message) => {
    const res = await send(configuration).expect(422);
    expect(res.headers['content-type']).toMatch(/^application\/fhir\+json/);
    expect(res.body.issue[0]).toMatchObject({ severity: 'error', code: 'business-rule' });
    expect(messageOf(res.body)).toContain(message);
  });

  it('answers 422 for a CRD version it does not implement', async () => {
    const body = { ...signRequest({ prefetch: prefetchWith(coverage('cov-1')) }), extension: { 'davinci-crd.requestedVersion': '1.0' } };
    const res = await request(app).post(SIGN).send(body).expect(422);
    expect(messageOf(res.body)).toMatch(/^extension\.davinci-crd\.requestedVersion/);
    await request(app).post(SIGN).send({ ...body, extension: { 'davinci-crd.requestedVersion': '2.2' } }).expect(200);
  });
});

describe('Coverage and payer (CRD hook-13)', () => {
  describe('when coverage is required (CRD_REQUIRE_COVERAGE=true, the production default)', () => {
    const app = strict();
    afterAll(() => app.closeResources());
    const send = (prefetch: Record<string, Resource | null>) => request(app).post(SIGN).send(signRequest({ prefetch }));

    it.each([
      ['no active Coverage', prefetchWith(), /no active Coverage/],
      ['the EHR says it has no Coverage (prefetch null)', { ...fullPrefetch(), coverage: null }, /no active Coverage/],
      ['only a cancelled Coverage', prefetchWith(coverage('cov-1', PAYER_ID, { status: 'cancelled' })), /no active Coverage/],
      ['a Coverage that ended before today', prefetchWith(coverage('cov-1', PAYER_ID, { period: { end: '2020-01-01' } })), /no active Coverage/],
      ['a payor without identifier', prefetchWith(coverage('cov-1', null)), /payor identifier/],
      ['a payer this service does not serve', prefetchWith(coverage('cov-1', { system: PAYER_ID.system, value: 'OTHER' })), /payor identifier/],
      ['two active Coverages with this payer', prefetchWith(coverage('cov-1'), coverage('cov-2')), /2 active Coverages/],
    ])('answers 400 with an OperationOutcome for %s', async (_what, prefetch, message) => {
      const res = await send(prefetch).expect(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(errorCodeOf(res.body)).toBe('invalid-request');
      expect(messageOf(res.body)).toMatch(/^coverage: /);
      expect(messageOf(res.body)).toMatch(message);
    });

    it('uses the one Coverage of this payer when the patient also has another payer', async () => {
      const res = await send(prefetchWith(coverage('cov-other', { system: PAYER_ID.system, value: 'OTHER' }), coverage('cov-1'))).expect(200);
      expect(sub(coverageInfoOf(res.body.systemActions[0]), 'coverage')[0].valueReference!.reference).toBe('Coverage/cov-1');
    });

    it('recognises the payer by a contained Organization\'s identifier', async () => {
      const cov = coverage('cov-1', null, {
        contained: [{ resourceType: 'Organization', id: 'payer', identifier: [PAYER_ID], name: 'Testpayer' }],
        payor: [{ reference: '#payer' }],
      });
      await send(prefetchWith(cov)).expect(200);
    });

    it('does not ask for a Coverage when no order is governed', async () => {
      await request(app).post(SIGN).send(signRequest({ prefetch: prefetchWith() }, { draftOrders: draftBundle(order('lab-1')) })).expect(200);
    });
  });

  describe('in the sandbox default (CRD_REQUIRE_COVERAGE=false)', () => {
    const app = sandbox();
    afterAll(() => app.closeResources());

    it('still returns the card, without a system action, when no Coverage of this payer can be had', async () => {
      const res = await request(app).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1', null)) })).expect(200);
      expect(res.body.cards).toHaveLength(1);
      expect(res.body.cards[0].source.label).toBe(SANDBOX_PAYER.insurer);
      expect(res.body.systemActions).toEqual([]);
    });
  });
});

describe('technical failures become "indeterminate" with reason "technical" (CRD resp-43)', () => {
  it('when the rest of the record cannot be fetched but the Coverage was prefetched', async () => {
    const app = strict();
    try {
      const prefetch = { patient: fullPrefetch().patient, coverage: searchset(coverage('cov-1')) };
      const body = signRequest({ prefetch, fhirServer: `http://127.0.0.1:${await closedPort()}/fhir` }, { draftOrders: draftBundle(order('pump-1')) });
      const res = await request(app).post(SIGN).send(body).expect(200);
      expect(res.body.cards).toHaveLength(1);
      expect(res.body.cards[0].summary).toMatch(/could not be checked/);
      const ext = coverageInfoOf(res.body.systemActions[0]);
      expect(sub(ext, 'covered')[0].valueCode).toBe('indeterminate');
      expect(sub(ext, 'reason')[0].valueCodeableConcept).toEqual({
        coding: [{ system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp', code: 'technical', display: 'Technical issues' }],
        text: expect.stringContaining('could not be read'),
      });
      expectValidAgainstCrdProfiles(res.body);
    } finally {
      await app.closeResources();
    }
  });

  it('when the evaluation fails', async () => {
    const failing = makeApp(
      { evaluateOrder: async () => ({ evaluation: null, skipped: [], error: 'boom' }), orderPhase: async () => 'implant', prepareRecord: unreadRecord },
      { config: testConfig({ crd: { payer: SANDBOX_PAYER, requireCoverage: true } }) },
    );
    try {
      const res = await request(failing).post(SIGN).send(signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders: draftBundle(order('pump-1')) })).expect(200);
      const ext = coverageInfoOf(res.body.systemActions[0]);
      expect(sub(ext, 'covered')[0].valueCode).toBe('indeterminate');
      expect(sub(ext, 'reason')[0].valueCodeableConcept!.coding![0].code).toBe('technical');
      expect(JSON.stringify(res.body)).not.toContain('boom');
      expectValidAgainstCrdProfiles(res.body);
    } finally {
      await failing.closeResources();
    }
  });

  it('and without a Coverage an unreadable record stays a 412', async () => {
    const app = strict();
    try {
      const body = signRequest({ prefetch: { patient: fullPrefetch().patient }, fhirServer: `http://127.0.0.1:${await closedPort()}/fhir` });
      const res = await request(app).post(SIGN).send(body).expect(412);
      expect(res.body.resourceType).toBe('OperationOutcome');
    } finally {
      await app.closeResources();
    }
  });
});

describe('discovery', () => {
  const app = strict();
  afterAll(() => app.closeResources());

  it('declares the CRD version and the configuration options of each service (CRD dev-1, dev-4, dev-5)', async () => {
    const res = await request(app).get('/cds-services').expect(200);
    for (const service of res.body.services) {
      expect(service.extension['davinci-crd.version']).toEqual(['2.2']);
      const options = service.extension['davinci-crd.configuration-options'];
      expect(options.map((o: { code: string }) => o.code)).toEqual(['coverage-info', 'guideline', 'clinical-reminder', 'max-cards']);
      for (const o of options) {
        expect(Object.keys(o).sort()).toEqual(['code', 'default', 'description', 'name', 'type']);
        expect(typeof o.default).toBe(o.type === 'integer' ? 'number' : 'boolean');
      }
      expect(new Set(options.map((o: { name: string }) => o.name)).size).toBe(options.length);
      const coverageInfo = options.find((o: { code: string }) => o.code === 'coverage-info');
      expect(coverageInfo.default).toBe(service.hook === 'order-sign');
    }
  });
});

describe('the call result (for the call record)', () => {
  it('lists the coverage-assertion-id of every system action in the answer', async () => {
    const catalog = loadServiceCatalog(loadPacks());
    const service = catalog.get('intrathecal-pump-order-sign')!;
    const request = validateHookRequest(
      signRequest({ prefetch: prefetchWith(coverage('cov-1')) }, { draftOrders: draftBundle(order('pump-1'), order('pump-2')) }),
      'order-sign',
    );
    const fetcher = { fetch: async () => Promise.reject(new Error('no fetch expected')), close: async () => undefined };
    const result = await runHookCall(
      { evaluator: inProcessEvaluator(new RecordingEngine(evaluationFor)), fetcher, deadlineMs: 0, now: () => new Date('2026-06-15T12:00:00Z'), crd: { payer: SANDBOX_PAYER, requireCoverage: true } },
      service,
      request,
      'https://cds.example.org/policy/2022T0626C',
    );
    const inAnswer = (result.response.systemActions ?? []).map((a) => sub(coverageInfoOf(a), 'coverage-assertion-id')[0].valueString);
    expect(result.assertionIds).toHaveLength(2);
    expect(result.assertionIds).toEqual(inAnswer);
  });
});
