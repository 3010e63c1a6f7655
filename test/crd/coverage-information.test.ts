/**
 * criteria.md section 5's table, row by row, on both hooks: each extension is validated against CRD
 * 2.2.1's definition of ext-coverage-information (cardinality, types, bindings, crd-ci-q1..q9), and the
 * validator itself is shown to catch a violation of every invariant.
 */
import type { Extension } from 'fhir/r4';
import type { CriterionResult } from '../../src/engine/types';
import type { HookName } from '../../src/cds-hooks/types';
import { buildCoverageInformation, COVERAGE_INFORMATION_URL, type OrderOutcome } from '../../src/crd/coverage-information';
import { SANDBOX_PAYER, type PayerConfig } from '../../src/crd/payers';
import { loadPacks } from '../../src/packs/load-packs';
import { validateCoverageInformation } from './support/structure-validator';
import { implantEvaluation as evaluation } from '../support/evaluations';

const [pack] = loadPacks();

const PAGE = 'https://cds.example.org/policy/2022T0626C';

const met = (id: string): CriterionResult => ({ id, status: 'met', note: 'ok' });

function build(outcome: OrderOutcome, hook: HookName = 'order-sign', payer: PayerConfig = SANDBOX_PAYER): Extension {
  let n = 0;
  return buildCoverageInformation(outcome, {
    hook,
    pack,
    payer,
    coverageReference: 'Coverage/cov-1',
    callDate: '2026-06-15',
    policyPageUrl: PAGE,
    newAssertionId: () => `assertion-${++n}`,
  });
}

/** sub-extension url -> its values (code, text of a reason, ...). */
function subs(ext: Extension): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const s of ext.extension ?? []) {
    const value = s.valueCode ?? s.valueString ?? s.valueDate ?? s.valueCanonical ?? s.valueCodeableConcept?.text ?? s.valueReference?.reference ?? 'complex';
    (out[s.url] ??= []).push(value);
  }
  return out;
}

const rows: Array<{ row: string; outcome: OrderOutcome; covered: string; pa?: string; doc?: [string, string]; reason: RegExp[] }> = [
  {
    row: 'evaluation failed',
    outcome: { failure: 'the evaluation failed' },
    covered: 'indeterminate',
    reason: [/could not be checked/],
  },
  {
    row: 'age-18 not-met (wins over other not-met criteria)',
    outcome: { evaluation: evaluation([{ id: 'age-18', status: 'not-met', note: 'age 16' }, { id: 'cnmp-conservative-6mo', status: 'not-met' }]) },
    covered: 'indeterminate',
    reason: [/does not address individuals under 18/],
  },
  {
    row: 'another criterion not-met (wins over not-documented)',
    outcome: {
      evaluation: evaluation([
        met('age-18'),
        { id: 'cnmp-conservative-6mo', status: 'not-met', note: '4 months' },
        { id: 'cnmp-trial-pain-reduction-50', status: 'not-met', note: 'NRS 8 -> 6: 25% reduction' },
        { id: 'cnmp-psych-clearance', status: 'not-documented' },
      ]),
    },
    covered: 'not-covered',
    reason: [/^Not met: .*\(cnmp-conservative-6mo\): 4 months$/, /^Not met: .*\(cnmp-trial-pain-reduction-50\): NRS 8 -> 6: 25% reduction$/],
  },
  {
    row: 'pathway undetermined',
    outcome: { evaluation: evaluation([met('age-18')], { pathway: 'undetermined' }) },
    covered: 'covered',
    pa: 'auth-needed',
    doc: ['clinical', 'withpa'],
    reason: [/diagnosis/],
  },
  {
    row: 'a criterion not-documented',
    outcome: { evaluation: evaluation([met('age-18'), { id: 'cnmp-psych-clearance', status: 'not-documented', note: 'no evaluation' }, met('cnmp-etiology')]) },
    covered: 'covered',
    pa: 'auth-needed',
    doc: ['clinical', 'withpa'],
    reason: [/^Not documented: .*\(cnmp-psych-clearance\): no evaluation$/],
  },
  {
    row: 'all met or not-applicable, chronic non-malignant pain',
    outcome: { evaluation: evaluation([met('age-18'), met('cnmp-etiology'), { id: 'trial-completed', status: 'not-applicable' }]) },
    covered: 'covered',
    pa: 'auth-needed',
    reason: [],
  },
  {
    row: 'all met, cancer-pain (InterQual)',
    outcome: { evaluation: evaluation([met('age-18'), met('metastases-documented')], { pathway: 'cancer-pain' }) },
    covered: 'covered',
    pa: 'auth-needed',
    reason: [/InterQual.*medical necessity at prior authorization/],
  },
  {
    row: 'all met, spasticity (InterQual)',
    outcome: { evaluation: evaluation([met('age-18'), met('spasticity-scale-documented')], { pathway: 'spasticity' }) },
    covered: 'covered',
    pa: 'auth-needed',
    reason: [/InterQual/],
  },
];

describe.each(rows)('table row: $row', ({ outcome, covered, pa, doc, reason }) => {
  it('on order-sign: the row\'s sub-extensions, valid against ext-coverage-information', () => {
    const ext = build(outcome, 'order-sign');
    expect(ext.url).toBe(COVERAGE_INFORMATION_URL);
    expect(validateCoverageInformation(ext)).toEqual([]);
    const s = subs(ext);
    expect(s.covered).toEqual([covered]);
    expect(s['pa-needed']).toEqual(pa ? [pa] : undefined);
    expect(s['doc-needed']).toEqual(doc ? [doc[0]] : undefined);
    expect(s['doc-purpose']).toEqual(doc ? [doc[1]] : undefined);
    expect((s.reason ?? []).length).toBe(reason.length);
    reason.forEach((r, i) => expect(s.reason[i]).toMatch(r));
    // Always: coverage, date, one assertion id, the policy-link detail.
    expect(s.coverage).toEqual(['Coverage/cov-1']);
    expect(s.date).toEqual(['2026-06-15']);
    expect(s['coverage-assertion-id']).toEqual(['assertion-1']);
    const detail = ext.extension!.filter((e) => e.url === 'detail');
    expect(detail).toEqual([
      {
        url: 'detail',
        extension: [
          { url: 'category', valueCode: 'cat-decisional' },
          { url: 'code', valueCodeableConcept: { coding: [expect.objectContaining({ code: 'policy-link' })] } },
          { url: 'value', valueUrl: PAGE },
        ],
      },
    ]);
  });

  it('on order-select: never doc-needed clinical/admin (CRD hook-19), still valid', () => {
    const ext = build(outcome, 'order-select');
    expect(validateCoverageInformation(ext)).toEqual([]);
    const s = subs(ext);
    expect(s.covered).toEqual([covered]);
    expect(s['doc-needed']).toBeUndefined();
    expect(s['doc-purpose']).toBeUndefined();
    expect(s.questionnaire).toBeUndefined();
  });
});

describe('payer configuration', () => {
  const gap = { evaluation: evaluation([met('age-18'), { id: 'cnmp-psych-clearance', status: 'not-documented' }]) };
  const noAuth: PayerConfig = { ...SANDBOX_PAYER, priorAuth: { default: 'auth-needed', codes: { '62362': 'no-auth' } } };

  it('takes pa-needed from the code\'s setting, and documentation goes with the order when no authorization is needed', () => {
    const ext = build(gap, 'order-sign', noAuth);
    expect(validateCoverageInformation(ext)).toEqual([]);
    expect(subs(ext)['pa-needed']).toEqual(['no-auth']);
    expect(subs(ext)['doc-purpose']).toEqual(['withorder']);
    const other = build({ evaluation: { ...gap.evaluation, code: { system: 'http://www.ama-assn.org/go/cpt', code: '62361' } } }, 'order-sign', noAuth);
    expect(subs(other)['pa-needed']).toEqual(['auth-needed']);
  });

  it('names the DTR questionnaire only when documentation is asked for (crd-ci-q1)', () => {
    const payer = { ...SANDBOX_PAYER, questionnaire: 'http://payer.example.org/Questionnaire/itp|1' };
    const ext = build(gap, 'order-sign', payer);
    expect(validateCoverageInformation(ext)).toEqual([]);
    expect(subs(ext).questionnaire).toEqual(['http://payer.example.org/Questionnaire/itp|1']);
    expect(subs(build(gap, 'order-select', payer)).questionnaire).toBeUndefined();
    expect(subs(build({ evaluation: evaluation([met('age-18')]) }, 'order-sign', payer)).questionnaire).toBeUndefined();
  });

  it('marks a technical failure with the coverageAssertionReasons code "technical" (CRD resp-43)', () => {
    const reason = build({ failure: 'x' }).extension!.find((e) => e.url === 'reason')!.valueCodeableConcept!;
    expect(reason.coding).toEqual([{ system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp', code: 'technical', display: 'Technical issues' }]);
    expect(reason.text).toEqual(expect.any(String));
  });
});

describe('the validator catches a violation of every invariant and of the definition', () => {
  const valid = (): Extension => build({ evaluation: evaluation([met('age-18'), { id: 'cnmp-psych-clearance', status: 'not-documented' }]) });
  const set = (ext: Extension, url: string, sub: Extension | null): Extension => {
    const rest = ext.extension!.filter((e) => e.url !== url);
    return { ...ext, extension: sub ? [...rest, sub] : rest };
  };
  const add = (ext: Extension, sub: Extension): Extension => ({ ...ext, extension: [...ext.extension!, sub] });
  const keys = (ext: Extension) => validateCoverageInformation(ext).map((i) => i.where);

  it('accepts the unmodified extension', () => expect(keys(valid())).toEqual([]));

  const cases: Array<[string, (e: Extension) => Extension]> = [
    ['crd-ci-q1', (e) => add(set(set(e, 'doc-needed', null), 'doc-purpose', null), { url: 'questionnaire', valueCanonical: 'http://q.example.org/Q' })],
    ['crd-ci-q2', (e) => set(e, 'covered', { url: 'covered', valueCode: 'not-covered' })],
    ['crd-ci-q3', (e) => set(e, 'covered', { url: 'covered', valueCode: 'conditional' })],
    ['crd-ci-q4', (e) => set(e, 'pa-needed', { url: 'pa-needed', valueCode: 'satisfied' })],
    ['crd-ci-q5', (e) => add(e, { url: 'satisfied-pa-id', valueString: 'PA-1' })],
    ['crd-ci-q6', (e) => add(set(e, 'reason', null), { url: 'info-needed', valueCode: 'OTH' })],
    ['crd-ci-q7', (e) => set(e, 'reason', { url: 'reason', valueCodeableConcept: { coding: [{ system: 'http://example.org/reasons', code: 'x' }] } })],
    ['crd-ci-q8', (e) => set(e, 'reason', null)],
    ['crd-ci-q9', (e) => set(set(set(set(e, 'reason', null), 'doc-purpose', null), 'pa-needed', null), 'covered', { url: 'covered', valueCode: 'indeterminate' })],
  ];
  it.each(cases)('%s', (key, mutate) => {
    expect(keys(mutate(valid()))).toContain(key);
  });

  it('crd-ci-q7 accepts a reason coded from coverageAssertionReasons without text', () => {
    const e = set(valid(), 'reason', { url: 'reason', valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp', code: 'gold-card' }] } });
    expect(keys(e)).toEqual([]);
  });

  it.each([
    ['a missing coverage-assertion-id', (e: Extension) => set(e, 'coverage-assertion-id', null), 'Extension.extension:coverage-assertion-id'],
    ['two dates', (e: Extension) => add(e, { url: 'date', valueDate: '2026-06-16' }), 'Extension.extension:date'],
    ['a date that is not a FHIR date', (e: Extension) => set(e, 'date', { url: 'date', valueDate: '15/06/2026' }), 'Extension.extension:date.value[x]'],
    ['covered as a string', (e: Extension) => set(e, 'covered', { url: 'covered', valueString: 'covered' }), 'Extension.extension:covered.value[x]'],
    ['a covered code outside its value set', (e: Extension) => set(e, 'covered', { url: 'covered', valueCode: 'maybe' }), 'Extension.extension:covered.value[x]'],
    ['coverage pointing at a Patient', (e: Extension) => set(e, 'coverage', { url: 'coverage', valueReference: { reference: 'Patient/p1' } }), 'Extension.extension:coverage.value[x]'],
    ['a detail without category', (e: Extension) => set(e, 'detail', { url: 'detail', extension: [{ url: 'code', valueCodeableConcept: { text: 'x' } }, { url: 'value', valueString: 'x' }] }), 'Extension.extension:detail.extension:category'],
    ['a detail category outside its value set', (e: Extension) => set(e, 'detail', { url: 'detail', extension: [{ url: 'category', valueCode: 'cat-nope' }, { url: 'code', valueCodeableConcept: { text: 'x' } }, { url: 'value', valueString: 'x' }] }), 'Extension.extension:detail.extension:category.value[x]'],
  ])('%s', (_what, mutate, where) => {
    expect(keys(mutate(valid()))).toContain(where);
  });
});
