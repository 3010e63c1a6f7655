/**
 * What the Da Vinci CRD layer adds to a hook call, per evaluated order: choosing the Coverage, building
 * the coverage-information extension and its system action, and checking the order for an identical
 * assertion; printed beside the baseline of rendering the same order's card, in the same run.
 *
 *   npx tsx scripts/bench-crd.ts [iterations]
 *
 * A script that prints figures, not a test. No ELM needed: the evaluation is fixed.
 */
import { randomUUID } from 'node:crypto';
import type { Coverage, FhirResource, ServiceRequest } from 'fhir/r4';
import type { PolicyEvaluation } from '../src/engine/types';
import { loadPacks } from '../src/packs/load-packs';
import { buildCard } from '../src/presentation/cards';
import { selectCoverage } from '../src/crd/coverage';
import { buildCoverageInformation } from '../src/crd/coverage-information';
import { SANDBOX_PAYER } from '../src/crd/payers';
import { coverageInformationAction, isNewInformation } from '../src/crd/system-actions';

const ITERATIONS = Number(process.argv[2] ?? 20000);
const [pack] = loadPacks();
const PAGE = 'http://localhost:3000/policy/2022T0626C';

const order: ServiceRequest = {
  resourceType: 'ServiceRequest',
  id: 'sr-1',
  status: 'draft',
  intent: 'order',
  code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '62362' }] },
  subject: { reference: 'Patient/p1' },
  authoredOn: '2026-06-15',
  requester: { reference: 'Practitioner/dr1' },
};
const evaluation: PolicyEvaluation = {
  policy: '2022T0626C',
  order: 'ServiceRequest/sr-1',
  code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
  phase: 'implant',
  pathway: 'chronic-non-malignant-pain',
  criteria: [
    { id: 'age-18', status: 'met', evidence: ['Patient/p1'], note: 'age 54' },
    { id: 'cnmp-etiology', status: 'met', evidence: ['Condition/c1'] },
    { id: 'cnmp-no-further-treatment', status: 'met', evidence: ['Condition/c2'] },
    { id: 'cnmp-conservative-6mo', status: 'met', evidence: ['MedicationRequest/m1'], note: '16 months' },
    { id: 'cnmp-conservative-failure', status: 'met', evidence: ['MedicationRequest/m1'] },
    { id: 'cnmp-psych-clearance', status: 'not-documented', note: 'no psychological evaluation in the 12 months before the order' },
    { id: 'trial-completed', status: 'met', evidence: ['Procedure/p1'] },
    { id: 'cnmp-trial-pain-reduction-50', status: 'met', note: 'NRS 8 -> 3: 62.5% reduction' },
  ],
};
const coverage: Coverage = {
  resourceType: 'Coverage',
  id: 'cov-1',
  status: 'active',
  beneficiary: { reference: 'Patient/p1' },
  payor: [{ identifier: SANDBOX_PAYER.identifiers[0] }],
};
const record: FhirResource[] = [coverage];

function time(label: string, fn: () => unknown): number {
  for (let i = 0; i < 500; i++) fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS; i++) fn();
  const perCall = Number(process.hrtime.bigint() - started) / ITERATIONS / 1000;
  console.log(`${label.padEnd(56)} ${perCall.toFixed(1).padStart(7)} µs per order`);
  return perCall;
}

const cardContext = { hook: 'order-sign' as const, pack, insurer: SANDBOX_PAYER.insurer, userId: 'Practitioner/dr1', policyPageUrl: PAGE, patientId: 'p1', callDate: '2026-12-07' };
console.log(`${ITERATIONS} iterations each`);
const baseline = time('baseline: the order\'s card (buildCard)', () => buildCard(evaluation, cardContext));
const crd = time('CRD: Coverage + extension + system action + resp-35 check', () => {
  const selected = selectCoverage(record, SANDBOX_PAYER, 'p1', '2026-12-07');
  if (selected.kind !== 'found') throw new Error('no coverage');
  const ext = buildCoverageInformation(
    { evaluation },
    { hook: 'order-sign', pack, payer: SANDBOX_PAYER, coverageReference: selected.reference, callDate: '2026-12-07', policyPageUrl: PAGE, newAssertionId: randomUUID },
  );
  return isNewInformation(order, ext) ? coverageInformationAction(order, ext) : null;
});
console.log(`CRD layer / card: ${(crd / baseline).toFixed(2)}x`);
