/**
 * criteria.md section 3, cancer-pain: metastases-documented, icp-documented, life-expectancy-documented,
 * prior-treatments-documented, trial-completed and trial-pain-reduction-documented. Order date 2026-06-15: the
 * 12-month window starts 2025-06-15.
 */
import type { Coding, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import {
  CODE,
  condition,
  cpt,
  icd,
  implantOrder,
  loinc,
  medicationRequest,
  medicationStatement,
  observation,
  painScore,
  patient,
  procedure,
  ref,
  sct,
  trialProcedure,
} from './support/builders';
import { criterion, evaluate, evaluateImplant, evaluateTrial } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CANCER_PAIN = icd('G89.3', 'Neoplasm related pain');

async function cancer(id: string, resources: Resource[]) {
  const evaluation = await evaluateImplant(engine, [condition(CANCER_PAIN), ...resources]);
  expect(evaluation.pathway).toBe('cancer-pain');
  return criterion(evaluation, id);
}

describe('metastases-documented', () => {
  test.each<[string, Coding]>([
    ['C79.51 (bone)', icd('C79.51')],
    ['C78.7 (liver)', icd('C78.7')],
    ['C77.3 (axillary nodes)', icd('C77.3')],
    ['C80.0 (disseminated)', icd('C80.0')],
    ['SNOMED 128462008', sct('128462008')],
    ['SNOMED 94222008', sct('94222008')],
  ])('a secondary malignant neoplasm %s: met, evidence the Condition', async (_name, code) => {
    const metastasis = condition(code);
    expect(await cancer('metastases-documented', [metastasis])).toMatchObject({ status: 'met', evidence: [ref(metastasis)] });
  });

  test('a refuted metastasis documents absence: met', async () => {
    const refuted = condition(icd('C79.51'), { verification: 'refuted' });
    expect(await cancer('metastases-documented', [refuted])).toMatchObject({ status: 'met', evidence: [ref(refuted)] });
  });

  test('a resolved metastasis still documents presence and location: met', async () => {
    expect((await cancer('metastases-documented', [condition(icd('C79.51'), { clinical: 'resolved' })])).status).toBe('met');
  });

  test('an entered-in-error metastasis: not-documented', async () => {
    expect((await cancer('metastases-documented', [condition(icd('C79.51'), { verification: 'entered-in-error' })])).status).toBe('not-documented');
  });

  test('a primary neoplasm (C50.911) or an unknown primary (C80.1) is not a metastasis: not-documented', async () => {
    expect((await cancer('metastases-documented', [condition(icd('C50.911')), condition(icd('C80.1'))])).status).toBe('not-documented');
  });

  test('nothing on record: not-documented, no evidence', async () => {
    const result = await cancer('metastases-documented', []);
    expect(result.status).toBe('not-documented');
    expect('evidence' in result).toBe(false);
  });
});

describe('icp-documented', () => {
  test.each<[string, Coding]>([
    ['G93.2', icd('G93.2')],
    ['G93.5', icd('G93.5')],
    ['G93.6', icd('G93.6')],
    ['G91.1 (a G91.x code)', icd('G91.1')],
    ['SNOMED 271719001', sct('271719001')],
  ])('a Condition coded %s: met', async (_name, code) => {
    const icp = condition(code);
    expect(await cancer('icp-documented', [icp])).toMatchObject({ status: 'met', evidence: [ref(icp)] });
  });

  test('a refuted G93.2 documents absence: met', async () => {
    expect((await cancer('icp-documented', [condition(icd('G93.2'), { verification: 'refuted' })])).status).toBe('met');
  });

  test('a Condition at any date counts (recorded 2015, resolved)', async () => {
    expect((await cancer('icp-documented', [condition(icd('G93.2'), { clinical: 'resolved', recordedDate: '2015-03-01' })])).status).toBe('met');
  });

  test('an entered-in-error G93.2: not-documented', async () => {
    expect((await cancer('icp-documented', [condition(icd('G93.2'), { verification: 'entered-in-error' })])).status).toBe('not-documented');
  });

  test('G93.1 is not an ICP code: not-documented', async () => {
    expect((await cancer('icp-documented', [condition(icd('G93.1'))])).status).toBe('not-documented');
  });

  test.each<[string, Coding]>([
    ['LOINC 60956-0', loinc('60956-0')],
    ['SNOMED 250844005', sct('250844005')],
  ])('an Observation coded %s within 12 months: met', async (_name, code) => {
    const icp = observation(code, { effectiveDateTime: '2026-04-15T08:00:00Z', valueQuantity: 12 });
    expect(await cancer('icp-documented', [icp])).toMatchObject({ status: 'met', evidence: [ref(icp)] });
  });

  test('an Observation exactly 12 months before the order counts; a day earlier does not', async () => {
    expect((await cancer('icp-documented', [observation(loinc('60956-0'), { effectiveDateTime: '2025-06-15', valueQuantity: 10 })])).status).toBe('met');
    expect((await cancer('icp-documented', [observation(loinc('60956-0'), { effectiveDateTime: '2025-06-14', valueQuantity: 10 })])).status).toBe(
      'not-documented',
    );
  });

  test('nothing on record: not-documented', async () => {
    expect((await cancer('icp-documented', [])).status).toBe('not-documented');
  });
});

describe('life-expectancy-documented', () => {
  const prognosis = (date: string, opts: Parameters<typeof observation>[1] = {}) =>
    observation(loinc('75328-5', 'Prognosis'), { effectiveDateTime: date, valueString: 'months', ...opts });

  test('a prognosis Observation within 12 months: met', async () => {
    const o = prognosis('2026-05-10');
    expect(await cancer('life-expectancy-documented', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });

  test('exactly 12 months before counts; a day earlier does not', async () => {
    expect((await cancer('life-expectancy-documented', [prognosis('2025-06-15')])).status).toBe('met');
    expect((await cancer('life-expectancy-documented', [prognosis('2025-06-14')])).status).toBe('not-documented');
  });

  test('an entered-in-error prognosis: not-documented', async () => {
    expect((await cancer('life-expectancy-documented', [prognosis('2026-05-10', { status: 'entered-in-error' })])).status).toBe('not-documented');
  });

  test('another Observation code: not-documented', async () => {
    expect((await cancer('life-expectancy-documented', [observation(loinc('11506-3'), { effectiveDateTime: '2026-05-10' })])).status).toBe(
      'not-documented',
    );
  });
});

describe('prior-treatments-documented (pain)', () => {
  test('a pain-medication MedicationRequest with a statusReason and a date: met', async () => {
    const stopped = medicationRequest(CODE.morphine, { status: 'stopped', authoredOn: '2025-11-01', statusReason: 'intolerable constipation' });
    expect(await cancer('prior-treatments-documented', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a pain-medication MedicationStatement with a statusReason and a date: met', async () => {
    const stopped = medicationStatement(CODE.oxycodone, { status: 'stopped', effectivePeriod: ['2025-10-01', '2025-12-01'], statusReason: 'no relief' });
    expect(await cancer('prior-treatments-documented', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a Procedure with a statusReason and a date: met', async () => {
    const stopped = procedure(cpt('77427', 'Radiation treatment management'), { status: 'stopped', performedPeriod: ['2025-09-01', '2025-09-20'], statusReason: 'toxicity' });
    expect(await cancer('prior-treatments-documented', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a not-done Procedure with a statusReason needs no date: met', async () => {
    const notDone = procedure(cpt('64680'), { status: 'not-done', statusReason: 'contraindicated: coagulopathy' });
    expect((await cancer('prior-treatments-documented', [notDone])).status).toBe('met');
  });

  test.each<[string, Resource]>([
    ['a MedicationRequest with a statusReason but no date', medicationRequest(CODE.morphine, { status: 'stopped', statusReason: 'nausea' })],
    ['a MedicationRequest without a statusReason', medicationRequest(CODE.morphine, { status: 'stopped', authoredOn: '2025-11-01' })],
    ['a non-pain MedicationRequest with a statusReason', medicationRequest(CODE.lisinopril, { status: 'stopped', authoredOn: '2025-11-01', statusReason: 'cough' })],
    ['a MedicationStatement with a statusReason but no date', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'no relief' })],
    ['a done Procedure with a statusReason but no date', procedure(cpt('77427'), { status: 'stopped', statusReason: 'toxicity' })],
    ['an entered-in-error MedicationRequest', medicationRequest(CODE.morphine, { status: 'entered-in-error', authoredOn: '2025-11-01', statusReason: 'x' })],
  ])('%s: not-documented', async (_name, resource) => {
    expect((await cancer('prior-treatments-documented', [resource])).status).toBe('not-documented');
  });

  test('a draft order is not a prior treatment', async () => {
    const draft = medicationRequest(CODE.oxycodone, { status: 'stopped', authoredOn: '2025-11-01', statusReason: 'sedation' });
    const evaluation = await evaluateImplantWithDrafts([condition(CANCER_PAIN)], [draft]);
    expect(criterion(evaluation, 'prior-treatments-documented').status).toBe('not-documented');
  });
});

describe('trial-pain-reduction-documented (cancer-pain)', () => {
  const trial = () => trialProcedure({ performedDateTime: '2026-05-10T10:00:00Z' });

  test('baseline and during-trial scores: met, and the note states the reduction (8 -> 4: 50%)', async () => {
    const t = trial();
    const baseline = painScore(8, '2026-04-28T10:00:00Z');
    const during = painScore(4, '2026-05-12T10:00:00Z');
    const result = await cancer('trial-pain-reduction-documented', [t, baseline, during]);
    expect(result.status).toBe('met');
    expect([...(result.evidence ?? [])].sort()).toEqual([ref(baseline), ref(during)].sort());
    expect(result.note).toMatch(/50\s*%/);
  });

  test('documented even when the pain did not go down (7 -> 7): met', async () => {
    expect((await cancer('trial-pain-reduction-documented', [trial(), painScore(7, '2026-04-28T10:00:00Z'), painScore(7, '2026-05-12T10:00:00Z')])).status).toBe(
      'met',
    );
  });

  test('during-trial score by partOf: met', async () => {
    const t = trial();
    expect((await cancer('trial-pain-reduction-documented', [t, painScore(9, '2026-04-28T10:00:00Z'), painScore(2, '2026-06-01T10:00:00Z', { partOf: [t] })])).status).toBe('met');
  });

  test('no during-trial score: not-documented', async () => {
    expect((await cancer('trial-pain-reduction-documented', [trial(), painScore(8, '2026-04-28T10:00:00Z')])).status).toBe('not-documented');
  });

  test('no baseline: not-documented', async () => {
    expect((await cancer('trial-pain-reduction-documented', [trial(), painScore(4, '2026-05-12T10:00:00Z')])).status).toBe('not-documented');
  });

  test('no trial: trial-completed and the reduction are not-documented', async () => {
    const evaluation = await evaluateImplant(engine, [condition(CANCER_PAIN), painScore(8, '2026-04-28T10:00:00Z'), painScore(4, '2026-05-12T10:00:00Z')]);
    expect(criterion(evaluation, 'trial-completed').status).toBe('not-documented');
    expect(criterion(evaluation, 'trial-pain-reduction-documented').status).toBe('not-documented');
  });

  test('a trial: trial-completed met', async () => {
    const t = trial();
    expect(await cancer('trial-completed', [t])).toMatchObject({ status: 'met', evidence: [ref(t)] });
  });
});

describe('the documentation criteria on a trial order', () => {
  test('a fully documented cancer-pain trial order: every criterion met', async () => {
    const evaluation = await evaluateTrial(engine, [
      condition(CANCER_PAIN),
      condition(icd('C50.911')),
      condition(icd('C79.51')),
      condition(icd('G93.2'), { verification: 'refuted' }),
      observation(loinc('75328-5'), { effectiveDateTime: '2026-05-10', valueString: '6-12 months' }),
      medicationRequest(CODE.morphine, { status: 'stopped', authoredOn: '2026-01-10', statusReason: 'sedation' }),
    ]);
    expect(evaluation.pathway).toBe('cancer-pain');
    expect(evaluation.criteria.map((c) => [c.id, c.status])).toEqual([
      ['age-18', 'met'],
      ['metastases-documented', 'met'],
      ['icp-documented', 'met'],
      ['life-expectancy-documented', 'met'],
      ['prior-treatments-documented', 'met'],
    ]);
  });
});

function evaluateImplantWithDrafts(resources: Resource[], drafts: Resource[]) {
  return evaluate(engine, [patient(), ...resources], implantOrder(), { drafts });
}
