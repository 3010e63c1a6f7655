/**
 * Every fixture request (fixtures/requests/) with the real policy engine and the record fetched from the
 * embedded FHIR server, with coverage required as in production: the fixture Coverages name the sandbox's
 * payer, so each evaluated order gets one Coverage Information system action whose `covered` follows
 * criteria.md section 5 from the card's evaluation, and every action and suggested order is valid against
 * the CRD profiles. Needs `npm run build:cql` (the ELM) first.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Extension } from 'fhir/r4';
import request from 'supertest';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEvaluation } from '../../src/engine/types';
import type { Card } from '../../src/cds-hooks/types';
import { COVERAGE_INFORMATION_URL } from '../../src/crd/coverage-information';
import { SANDBOX_PAYER } from '../../src/crd/payers';
import type { SystemAction } from '../../src/crd/system-actions';
import { listBundleFiles, seedFhirServer, startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import { makeApp, testConfig } from '../cds-hooks/helpers';
import { FIXTURES_DIR, readFixtureTable } from '../support/fixture-table';
import { validateCoverageInformation, validateOrderProfile } from './support/structure-validator';

const names = [...new Set(readFixtureTable().map((r) => r.request))];
const answers = new Map<string, { hook: string; cards: Card[]; systemActions?: SystemAction[] }>();
let fhir: RunningFhirServer;

beforeAll(async () => {
  const engine = await loadPolicyEngine();
  fhir = await startFhirServer({ port: 0 });
  await seedFhirServer(fhir.baseUrl, listBundleFiles(join(FIXTURES_DIR, 'patients')));
  const app = makeApp(engine, { config: testConfig({ crd: { payer: SANDBOX_PAYER, requireCoverage: true } }) });
  try {
    for (const name of names) {
      const body = { ...JSON.parse(readFileSync(join(FIXTURES_DIR, 'requests', `${name}.json`), 'utf8')), fhirServer: fhir.baseUrl };
      // order-select gets coverage information only when asked; ask, to check it there too.
      if (body.hook === 'order-select') body.extension = { 'davinci-crd.configuration': { 'coverage-info': true } };
      const res = await request(app).post(`/cds-services/intrathecal-pump-${body.hook}`).send(body);
      if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${res.text}`);
      answers.set(name, { hook: body.hook, ...res.body });
    }
  } finally {
    await app.closeResources();
  }
}, 120_000);

afterAll(() => fhir?.close());

/** criteria.md section 5's `covered` column, read from the evaluation on the card. */
function expectedCovered(e: PolicyEvaluation): string {
  const status = (id: string) => e.criteria.find((c) => c.id === id)?.status;
  if (status('age-18') === 'not-met') return 'indeterminate';
  if (e.criteria.some((c) => c.status === 'not-met')) return 'not-covered';
  return 'covered';
}

describe.each(names)('fixture request %s', (name) => {
  it('has one valid Coverage Information action per evaluated order, as section 5 says', () => {
    const { hook, cards, systemActions } = answers.get(name)!;
    expect(Array.isArray(systemActions)).toBe(true);
    const evaluations = cards.map((c) => c.extension!['policy-evaluation'] as PolicyEvaluation);
    expect(systemActions!.map((a) => `${a.resource.resourceType}/${a.resource.id}`)).toEqual(evaluations.map((e) => e.order));
    systemActions!.forEach((action, i) => {
      const profile = action.resource.resourceType === 'DeviceRequest' ? 'StructureDefinition-profile-devicerequest.json' : 'StructureDefinition-profile-servicerequest.json';
      expect(validateOrderProfile(action.resource, profile)).toEqual([]);
      const ext = action.resource.extension!.find((e) => e.url === COVERAGE_INFORMATION_URL) as Extension;
      expect(validateCoverageInformation(ext)).toEqual([]);
      const value = (url: string) => ext.extension!.filter((s) => s.url === url).map((s) => s.valueCode);
      expect(value('covered')).toEqual([expectedCovered(evaluations[i])]);
      const gap = evaluations[i].pathway === 'undetermined' || evaluations[i].criteria.some((c) => c.status === 'not-documented');
      expect(value('doc-needed')).toEqual(hook === 'order-sign' && gap && expectedCovered(evaluations[i]) === 'covered' ? ['clinical'] : []);
      const coverageRef = ext.extension!.find((s) => s.url === 'coverage')!.valueReference!.reference;
      expect(coverageRef).toMatch(/^Coverage\/itp-.*-cov$/);
    });
    for (const card of cards) {
      expect(card.source.label).toBe(SANDBOX_PAYER.insurer);
      for (const s of card.suggestions ?? []) {
        for (const a of s.actions) expect(validateOrderProfile(a.resource, 'StructureDefinition-profile-servicerequest.json')).toEqual([]);
      }
    }
  });
});
