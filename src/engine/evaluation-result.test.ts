import { toEvaluationDates, toPolicyEvaluation as toEvaluation, type EvaluationTuple } from './evaluation-result';

const toPolicyEvaluation = (tuple: EvaluationTuple) => toEvaluation(tuple, '2022T0626C');

const tuple = (overrides: Partial<EvaluationTuple> = {}): EvaluationTuple => ({
  order: 'ServiceRequest/sr1',
  code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362', display: 'Implantation of spinal pump' },
  phase: 'implant',
  pathway: 'chronic-non-malignant-pain',
  otherPathways: ['cancer-pain'],
  criteria: [{ id: 'age-18', status: 'met', evidence: ['Patient/p1'], note: 'age 54' }],
  ...overrides,
});

describe('toPolicyEvaluation (the policy-evaluation extension of criteria.md section 4)', () => {
  test('carries the policy number, order, triggering coding, phase, pathway, otherPathways and criteria', () => {
    expect(toPolicyEvaluation(tuple())).toEqual({
      policy: '2022T0626C',
      order: 'ServiceRequest/sr1',
      code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362', display: 'Implantation of spinal pump' },
      phase: 'implant',
      pathway: 'chronic-non-malignant-pain',
      otherPathways: ['cancer-pain'],
      criteria: [{ id: 'age-18', status: 'met', evidence: ['Patient/p1'], note: 'age 54' }],
    });
  });

  test.each<[string, EvaluationTuple['otherPathways']]>([
    ['empty', []],
    ['null', null],
    ['only nulls', [null as never]],
  ])('otherPathways is left out when %s', (_name, otherPathways) => {
    expect('otherPathways' in toPolicyEvaluation(tuple({ otherPathways }))).toBe(false);
  });

  test.each<[string, Array<string | null> | null]>([
    ['empty', []],
    ['null', null],
    ['only nulls and empty strings', [null, '']],
  ])('evidence is left out when %s', (_name, evidence) => {
    const [criterion] = toPolicyEvaluation(tuple({ criteria: [{ id: 'cnmp-etiology', status: 'not-documented', evidence, note: 'none' }] })).criteria;
    expect(criterion).toEqual({ id: 'cnmp-etiology', status: 'not-documented', note: 'none' });
  });

  test('null references are dropped from evidence that has real ones', () => {
    const [criterion] = toPolicyEvaluation(
      tuple({ criteria: [{ id: 'cnmp-trial-pain-reduction-50', status: 'not-documented', evidence: [null, 'Observation/o1'], note: 'no score during the trial' }] }),
    ).criteria;
    expect(criterion.evidence).toEqual(['Observation/o1']);
  });

  test('a null note and a null display are left out', () => {
    const evaluation = toPolicyEvaluation(tuple({ code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362', display: null }, criteria: [{ id: 'age-18', status: 'not-documented', note: null }] }));
    expect(evaluation.code).toEqual({ system: 'http://www.ama-assn.org/go/cpt', code: '62362' });
    expect(evaluation.criteria).toEqual([{ id: 'age-18', status: 'not-documented' }]);
  });

  test('criteria keep their order', () => {
    const ids = ['age-18', 'cnmp-etiology', 'cnmp-no-further-treatment'];
    const evaluation = toPolicyEvaluation(tuple({ criteria: ids.map((id) => ({ id, status: 'met', note: id })) }));
    expect(evaluation.criteria.map((c) => c.id)).toEqual(ids);
  });
});

describe('toEvaluationDates', () => {
  const base = { order: 'ServiceRequest/o', code: {}, phase: 'implant', pathway: 'spasticity', criteria: [] };

  it('keeps the order date and the dated criteria, and drops what is not a date', () => {
    expect(
      toEvaluationDates({
        ...base,
        orderDate: '2026-06-15',
        latestOutsideWindow: [{ id: 'icp-documented', date: '2025-03-20' }, { id: 'x', date: 'soon' }, { id: null, date: '2025-01-01' }, null],
      }),
    ).toEqual({ orderDate: '2026-06-15', latestOutsideWindow: { 'icp-documented': '2025-03-20' } });
  });

  it('gives nothing when the tuple has no dates', () => {
    expect(toEvaluationDates({ ...base, orderDate: null, latestOutsideWindow: [] })).toEqual({});
  });
});
