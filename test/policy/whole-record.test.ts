/**
 * Whole records from fixtures/cql/ (see its README for what each shows): every criterion of the pathway and phase,
 * with the statuses and key evidence worked out by hand from criteria.md. Order date 2026-06-15 (authoredOn).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, DeviceRequest, Resource, ServiceRequest } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine, PolicyEvaluation } from '../../src/engine/types';
import { criterion } from './support/evaluate';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures', 'cql');

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

function load(name: string): { record: Bundle; drafts: Resource[] } {
  const read = (file: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as Bundle;
  const drafts = (read(`${name}.draft-orders.json`).entry ?? []).map((e) => e.resource as Resource);
  return { record: read(`${name}.record.json`), drafts };
}

async function evaluateFixture(name: string, orderRef: string): Promise<PolicyEvaluation> {
  const { record, drafts } = load(name);
  const order = drafts.find((d) => `${d.resourceType}/${d.id}` === orderRef) as ServiceRequest | DeviceRequest;
  // The call date is deliberately another day: authoredOn is the order date.
  const result = await engine.evaluateOrder(record, order, { draftOrders: drafts, callDate: '2026-07-01' });
  expect(result.error).toBeUndefined();
  expect(result.skipped).toEqual([]);
  expect(result.evaluation).not.toBeNull();
  return result.evaluation!;
}

const statuses = (evaluation: PolicyEvaluation) => evaluation.criteria.map((c) => [c.id, c.status]);
const sorted = (values: string[] | undefined) => [...(values ?? [])].sort();

test('cnmp-implant-complete: a CNMP pump order with every criterion met', async () => {
  const evaluation = await evaluateFixture('cnmp-implant-complete', 'ServiceRequest/pump');
  expect(evaluation).toMatchObject({
    policy: '2022T0626C',
    order: 'ServiceRequest/pump',
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
    phase: 'implant',
    pathway: 'chronic-non-malignant-pain',
  });
  expect('otherPathways' in evaluation).toBe(false);
  expect(statuses(evaluation)).toEqual([
    ['age-18', 'met'],
    ['cnmp-etiology', 'met'],
    ['cnmp-no-further-treatment', 'met'],
    ['cnmp-conservative-6mo', 'met'],
    ['cnmp-conservative-failure', 'met'],
    ['cnmp-psych-clearance', 'met'],
    ['trial-completed', 'met'],
    ['cnmp-trial-pain-reduction-50', 'met'],
  ]);
  expect(criterion(evaluation, 'age-18').evidence).toEqual(['Patient/cql-cnmp-1']);
  expect(criterion(evaluation, 'cnmp-etiology').evidence).toEqual(['Condition/back']);
  expect(criterion(evaluation, 'cnmp-no-further-treatment').evidence).toEqual(['Procedure/laminectomy']);
  expect(criterion(evaluation, 'cnmp-conservative-failure').evidence).toEqual(['MedicationRequest/gabapentin']);
  expect(sorted(criterion(evaluation, 'cnmp-conservative-6mo').evidence)).toEqual(
    sorted(['MedicationRequest/gabapentin', 'Procedure/pt', 'MedicationStatement/duloxetine', 'Procedure/psychotherapy']),
  );
  // The later 62321 named methylprednisolone: a steroid injection, not the trial.
  expect(criterion(evaluation, 'trial-completed').evidence).toEqual(['Procedure/trial']);
  // Baseline 8 (2026-03-20; the 9 of 2026-01-05 is more than 90 days before), lowest during 4: exactly 50%.
  expect(sorted(criterion(evaluation, 'cnmp-trial-pain-reduction-50').evidence)).toEqual(sorted(['Observation/nrs-baseline', 'Observation/nrs-trial-2']));
  expect(criterion(evaluation, 'cnmp-trial-pain-reduction-50').note).toMatch(/50\s*%/);
});

test('cancer-trial-gaps: malignancy + chronic pain on a trial order, with ICP and prognosis missing', async () => {
  const evaluation = await evaluateFixture('cancer-trial-gaps', 'ServiceRequest/trial');
  expect(evaluation).toMatchObject({
    order: 'ServiceRequest/trial',
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62324' },
    phase: 'trial',
    pathway: 'cancer-pain',
    otherPathways: ['chronic-non-malignant-pain'],
  });
  expect(statuses(evaluation)).toEqual([
    ['age-18', 'met'],
    ['metastases-documented', 'met'],
    ['icp-documented', 'not-documented'],
    ['life-expectancy-documented', 'not-documented'],
    ['prior-treatments-documented', 'met'],
  ]);
  // A refuted brain metastasis documents absence; the entered-in-error G93.2 documents nothing.
  expect(criterion(evaluation, 'metastases-documented').evidence).toEqual(['Condition/brain-mets']);
  expect('evidence' in criterion(evaluation, 'icp-documented')).toBe(false);
  // The undated oxycodone order does not count; the dated morphine statement does.
  expect(criterion(evaluation, 'prior-treatments-documented').evidence).toEqual(['MedicationStatement/morphine-oral']);
});

test('spasticity-device-mixed: a DeviceRequest pump for spasticity with chronic pain, a trial that did not lower the scale', async () => {
  const evaluation = await evaluateFixture('spasticity-device-mixed', 'DeviceRequest/pump');
  expect(evaluation).toMatchObject({
    order: 'DeviceRequest/pump',
    code: { system: 'https://bluebutton.cms.gov/resources/codesystem/hcpcs', code: 'E0783' },
    phase: 'implant',
    pathway: 'spasticity',
    otherPathways: ['chronic-non-malignant-pain'],
  });
  expect(statuses(evaluation)).toEqual([
    ['age-18', 'met'],
    ['spasticity-function-documented', 'met'],
    ['spasticity-scale-documented', 'met'],
    ['prior-treatments-documented', 'met'],
    ['psych-history-documented', 'not-documented'],
    ['icp-documented', 'met'],
    ['trial-completed', 'met'],
    ['spasticity-scale-reduction', 'not-met'],
    ['trial-pain-reduction-documented', 'not-documented'],
  ]);
  expect(criterion(evaluation, 'prior-treatments-documented').evidence).toEqual(['MedicationRequest/tizanidine']);
  expect(criterion(evaluation, 'icp-documented').evidence).toEqual(['Observation/icp']);
  expect(sorted(criterion(evaluation, 'spasticity-scale-reduction').evidence)).toEqual(sorted(['Observation/mas-baseline', 'Observation/mas-trial']));
});
