/**
 * criteria.md section 3, spasticity: spasticity-function-documented, spasticity-scale-documented,
 * prior-treatments-documented (antispasticity), psych-history-documented, icp-documented, trial-completed,
 * spasticity-scale-reduction and trial-pain-reduction-documented. Order date 2026-06-15: the 12-month window
 * starts 2025-06-15, the 24-month one 2024-06-15.
 */
import type { CodeableConcept, Coding, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import {
  CODE,
  SYSTEM,
  condition,
  icd,
  loinc,
  medicationRequest,
  medicationStatement,
  observation,
  painScore,
  procedure,
  ref,
  sct,
  trialProcedure,
} from './support/builders';
import { criterion, evaluateImplant, evaluateTrial } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const SPASTICITY = icd('G35.A');

async function spasticity(id: string, resources: Resource[]) {
  const evaluation = await evaluateImplant(engine, [condition(SPASTICITY), ...resources]);
  expect(evaluation.pathway).toBe('spasticity');
  return criterion(evaluation, id);
}

const ashworth = (value: number, at: string, opts: Parameters<typeof observation>[1] = {}) =>
  observation(CODE.ashworth, { effectiveDateTime: at, valueInteger: value, ...opts });
const penn = (value: number, at: string, opts: Parameters<typeof observation>[1] = {}) =>
  observation(CODE.penn, { effectiveDateTime: at, valueInteger: value, ...opts });

describe('spasticity-function-documented', () => {
  test.each<[string, Coding]>([
    ['Barthel index (SNOMED 273302005)', sct('273302005')],
    ['FIM (SNOMED 273469003)', sct('273469003')],
    ['LOINC 10158-4', loinc('10158-4')],
  ])('%s within 12 months: met', async (_name, code) => {
    const o = observation(code, { effectiveDateTime: '2026-03-01', valueInteger: 60 });
    expect(await spasticity('spasticity-function-documented', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });

  test('exactly 12 months before counts; a day earlier does not', async () => {
    expect((await spasticity('spasticity-function-documented', [observation(sct('273302005'), { effectiveDateTime: '2025-06-15' })])).status).toBe('met');
    expect((await spasticity('spasticity-function-documented', [observation(sct('273302005'), { effectiveDateTime: '2025-06-14' })])).status).toBe(
      'not-documented',
    );
  });

  test('nothing, or an unrelated Observation: not-documented', async () => {
    expect((await spasticity('spasticity-function-documented', [])).status).toBe('not-documented');
    expect((await spasticity('spasticity-function-documented', [observation(loinc('8867-4'), { effectiveDateTime: '2026-03-01', valueQuantity: 70 })])).status).toBe(
      'not-documented',
    );
  });
});

describe('spasticity-scale-documented', () => {
  test('a Modified Ashworth result within 12 months: met', async () => {
    const o = ashworth(3, '2026-04-02');
    expect(await spasticity('spasticity-scale-documented', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });

  test("a Penn Spasm Frequency result (the project's code system): met", async () => {
    expect((await spasticity('spasticity-scale-documented', [penn(2, '2026-04-02')])).status).toBe('met');
  });

  test('older than 12 months: not-documented', async () => {
    expect((await spasticity('spasticity-scale-documented', [ashworth(3, '2025-06-14'), penn(2, '2025-01-01')])).status).toBe('not-documented');
  });

  test('nothing: not-documented', async () => {
    expect((await spasticity('spasticity-scale-documented', [])).status).toBe('not-documented');
  });
});

describe('prior-treatments-documented (spasticity)', () => {
  test('oral baclofen MedicationRequest stopped with a reason and a date: met', async () => {
    const baclofen = medicationRequest(CODE.baclofen, { status: 'stopped', authoredOn: '2025-09-01', statusReason: 'intolerable drowsiness' });
    expect(await spasticity('prior-treatments-documented', [baclofen])).toMatchObject({ status: 'met', evidence: [ref(baclofen)] });
  });

  test('tizanidine MedicationStatement with a reason and a date: met', async () => {
    const tizanidine = medicationStatement(CODE.tizanidine, { status: 'stopped', effectivePeriod: ['2025-05-01', '2025-08-01'], statusReason: 'hypotension' });
    expect((await spasticity('prior-treatments-documented', [tizanidine])).status).toBe('met');
  });

  test('diazepam (RxNorm 3322) stopped with a reason: met', async () => {
    const diazepam = medicationRequest({ system: SYSTEM.rxnorm, code: '3322' }, { status: 'stopped', authoredOn: '2025-09-01', statusReason: 'sedation' });
    expect((await spasticity('prior-treatments-documented', [diazepam])).status).toBe('met');
  });

  test('a physical therapy Procedure stopped with a reason and a date: met', async () => {
    const pt = procedure(CODE.physicalTherapy, { status: 'stopped', performedPeriod: ['2025-03-01', '2025-05-01'], statusReason: 'no gain' });
    expect((await spasticity('prior-treatments-documented', [pt])).status).toBe('met');
  });

  test('a not-done physical therapy Procedure with a reason needs no date: met', async () => {
    const pt = procedure(sct('91251008'), { status: 'not-done', statusReason: 'contraindicated' });
    expect((await spasticity('prior-treatments-documented', [pt])).status).toBe('met');
  });

  test.each<[string, Resource]>([
    ['a pain medication (not an antispasticity drug)', medicationRequest(CODE.morphine, { status: 'stopped', authoredOn: '2025-09-01', statusReason: 'nausea' })],
    ['a Procedure other than physical therapy', procedure(CODE.laminectomy, { status: 'stopped', performedDateTime: '2025-09-01', statusReason: 'bleeding' })],
    ['baclofen without a statusReason', medicationRequest(CODE.baclofen, { status: 'stopped', authoredOn: '2025-09-01' })],
    ['baclofen without a date', medicationRequest(CODE.baclofen, { status: 'stopped', statusReason: 'drowsiness' })],
  ])('%s: not-documented', async (_name, resource) => {
    expect((await spasticity('prior-treatments-documented', [resource])).status).toBe('not-documented');
  });
});

describe('psych-history-documented', () => {
  test('a psychological evaluation in the 24 months before the order: met', async () => {
    const evaluation = procedure(CODE.psychEvaluation, { performedDateTime: '2025-01-10' });
    expect(await spasticity('psych-history-documented', [evaluation])).toMatchObject({ status: 'met', evidence: [ref(evaluation)] });
  });

  test.each<[string, Coding]>([
    ['PHQ-9 44249-1', loinc('44249-1')],
    ['GAD-7 69737-5', loinc('69737-5')],
    ['AUDIT-C 72109-2', loinc('72109-2')],
    ['DAST-10 82667-7', loinc('82667-7')],
  ])('a %s screening: met', async (_name, code) => {
    const o = observation(code, { effectiveDateTime: '2025-12-10', valueInteger: 4 });
    expect(await spasticity('psych-history-documented', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });

  test('a screening exactly 24 months before counts; a day earlier does not', async () => {
    expect((await spasticity('psych-history-documented', [observation(loinc('44249-1'), { effectiveDateTime: '2024-06-15', valueInteger: 3 })])).status).toBe('met');
    expect((await spasticity('psych-history-documented', [observation(loinc('44249-1'), { effectiveDateTime: '2024-06-14', valueInteger: 3 })])).status).toBe(
      'not-documented',
    );
  });

  test('an active psychiatric Condition recorded long ago: met', async () => {
    expect((await spasticity('psych-history-documented', [condition(icd('F32.1'), { recordedDate: '2019-01-01' })])).status).toBe('met');
  });

  test('a resolved psychiatric Condition recorded within 24 months: met', async () => {
    expect((await spasticity('psych-history-documented', [condition(icd('F32.1'), { clinical: 'resolved', recordedDate: '2025-03-01' })])).status).toBe(
      'met',
    );
  });

  test('a resolved substance-use Condition with onset within 24 months: met', async () => {
    expect((await spasticity('psych-history-documented', [condition(icd('F10.20'), { clinical: 'resolved', onsetDateTime: '2024-09-01' })])).status).toBe(
      'met',
    );
  });

  test('a resolved psychiatric Condition recorded before the window: not-documented', async () => {
    expect((await spasticity('psych-history-documented', [condition(icd('F32.1'), { clinical: 'resolved', recordedDate: '2023-01-01' })])).status).toBe(
      'not-documented',
    );
  });

  test('an old evaluation and an entered-in-error Condition: not-documented', async () => {
    const resources = [procedure(CODE.psychEvaluation, { performedDateTime: '2024-01-10' }), condition(icd('F41.1'), { verification: 'entered-in-error' })];
    expect((await spasticity('psych-history-documented', resources)).status).toBe('not-documented');
  });
});

describe('icp-documented (spasticity)', () => {
  test('a refuted G93.2: met; nothing: not-documented', async () => {
    expect((await spasticity('icp-documented', [condition(icd('G93.2'), { verification: 'refuted' })])).status).toBe('met');
    expect((await spasticity('icp-documented', [])).status).toBe('not-documented');
  });
});

describe('spasticity-scale-reduction', () => {
  // Trial 2026-05-04 08:00 to 2026-05-06 08:00 UTC (intrathecal baclofen).
  const trial = () => trialProcedure({ code: { system: SYSTEM.cpt, code: '62323' }, performedPeriod: ['2026-05-04T08:00:00Z', '2026-05-06T08:00:00Z'] });

  test('Modified Ashworth lower during the trial (4 -> 1): met, both scores as evidence, the note gives the 3-point reduction', async () => {
    const t = trial();
    const before = ashworth(4, '2026-04-25T10:00:00Z');
    const during = ashworth(1, '2026-05-05T10:00:00Z');
    const result = await spasticity('spasticity-scale-reduction', [t, before, during]);
    expect(result.status).toBe('met');
    expect([...(result.evidence ?? [])].sort()).toEqual([ref(before), ref(during)].sort());
    expect(result.note).toMatch(/\b3(\.0+)?\b[^\d]*point|point[^\d]*\b3(\.0+)?\b/i);
  });

  test('not lower (3 -> 3): not-met', async () => {
    expect((await spasticity('spasticity-scale-reduction', [trial(), ashworth(3, '2026-04-25T10:00:00Z'), ashworth(3, '2026-05-05T10:00:00Z')])).status).toBe(
      'not-met',
    );
  });

  test('higher during the trial (2 -> 3): not-met', async () => {
    expect((await spasticity('spasticity-scale-reduction', [trial(), ashworth(2, '2026-04-25T10:00:00Z'), ashworth(3, '2026-05-05T10:00:00Z')])).status).toBe(
      'not-met',
    );
  });

  test('Penn scale lower during the trial: met', async () => {
    expect((await spasticity('spasticity-scale-reduction', [trial(), penn(3, '2026-04-25T10:00:00Z'), penn(1, '2026-05-05T10:00:00Z')])).status).toBe('met');
  });

  test('baseline and during-trial scores on different scales: not-documented', async () => {
    expect((await spasticity('spasticity-scale-reduction', [trial(), ashworth(3, '2026-04-25T10:00:00Z'), penn(1, '2026-05-05T10:00:00Z')])).status).toBe(
      'not-documented',
    );
  });

  test('the latest baseline in the 90 days before the trial counts (2, not the older 4): 2 -> 2 is not-met', async () => {
    const resources = [trial(), ashworth(4, '2026-02-20T10:00:00Z'), ashworth(2, '2026-04-25T10:00:00Z'), ashworth(2, '2026-05-05T10:00:00Z')];
    expect((await spasticity('spasticity-scale-reduction', resources)).status).toBe('not-met');
  });

  test('the lowest during-trial score counts (3 -> 3 and 2): met', async () => {
    const resources = [trial(), ashworth(3, '2026-04-25T10:00:00Z'), ashworth(3, '2026-05-04T12:00:00Z'), ashworth(2, '2026-05-05T12:00:00Z')];
    expect((await spasticity('spasticity-scale-reduction', resources)).status).toBe('met');
  });

  test('a during-trial score linked by partOf after the period: met', async () => {
    const t = trial();
    expect((await spasticity('spasticity-scale-reduction', [t, ashworth(3, '2026-04-25T10:00:00Z'), ashworth(1, '2026-05-20T10:00:00Z', { partOf: [t] })])).status).toBe(
      'met',
    );
  });

  test('within 7 days after a performedDateTime: met; on day 8: not-documented', async () => {
    const point = () => trialProcedure({ performedDateTime: '2026-05-20T09:00:00Z' });
    expect((await spasticity('spasticity-scale-reduction', [point(), ashworth(3, '2026-05-10T10:00:00Z'), ashworth(2, '2026-05-27T08:00:00Z')])).status).toBe(
      'met',
    );
    expect((await spasticity('spasticity-scale-reduction', [point(), ashworth(3, '2026-05-10T10:00:00Z'), ashworth(2, '2026-05-28T10:00:00Z')])).status).toBe(
      'not-documented',
    );
  });

  test('Modified Ashworth grades as coded text: 2 -> 1+ is lower: met', async () => {
    const grade = (text: string): CodeableConcept => ({ text });
    const resources = [
      trial(),
      observation(CODE.ashworth, { effectiveDateTime: '2026-04-25T10:00:00Z', valueCodeableConcept: grade('2') }),
      observation(CODE.ashworth, { effectiveDateTime: '2026-05-05T10:00:00Z', valueCodeableConcept: grade('1+') }),
    ];
    expect((await spasticity('spasticity-scale-reduction', resources)).status).toBe('met');
  });

  test('no baseline: not-documented', async () => {
    expect((await spasticity('spasticity-scale-reduction', [trial(), ashworth(1, '2026-05-05T10:00:00Z')])).status).toBe('not-documented');
  });

  test('no trial: not-documented, as is trial-completed', async () => {
    const evaluation = await evaluateImplant(engine, [condition(SPASTICITY), ashworth(4, '2026-04-25T10:00:00Z'), ashworth(1, '2026-05-05T10:00:00Z')]);
    expect(criterion(evaluation, 'trial-completed').status).toBe('not-documented');
    expect(criterion(evaluation, 'spasticity-scale-reduction').status).toBe('not-documented');
  });
});

describe('trial-pain-reduction-documented (spasticity)', () => {
  const trial = () => trialProcedure({ performedPeriod: ['2026-05-04T08:00:00Z', '2026-05-06T08:00:00Z'] });

  test('no pain score at any date: not-applicable', async () => {
    const result = await spasticity('trial-pain-reduction-documented', [trial(), ashworth(3, '2026-04-25T10:00:00Z')]);
    expect(result.status).toBe('not-applicable');
    expect('evidence' in result).toBe(false);
  });

  test('baseline and during-trial pain scores: met', async () => {
    expect((await spasticity('trial-pain-reduction-documented', [trial(), painScore(6, '2026-04-25T10:00:00Z'), painScore(3, '2026-05-05T10:00:00Z')])).status).toBe(
      'met',
    );
  });

  test('a baseline without a during-trial score: not-documented', async () => {
    expect((await spasticity('trial-pain-reduction-documented', [trial(), painScore(6, '2026-04-25T10:00:00Z')])).status).toBe('not-documented');
  });

  test('a during-trial score without a baseline: not-documented', async () => {
    expect((await spasticity('trial-pain-reduction-documented', [trial(), painScore(3, '2026-05-05T10:00:00Z')])).status).toBe('not-documented');
  });

  test('a pain score long before the trial only: not-documented (the patient has pain scores)', async () => {
    expect((await spasticity('trial-pain-reduction-documented', [trial(), painScore(6, '2020-01-01T10:00:00Z')])).status).toBe('not-documented');
  });
});

describe('a fully documented spasticity trial order', () => {
  test('every criterion met', async () => {
    const evaluation = await evaluateTrial(engine, [
      condition(icd('G35')),
      condition(sct('221360009')),
      observation(sct('273302005'), { effectiveDateTime: '2026-04-02', valueInteger: 55 }),
      ashworth(3, '2026-04-02'),
      medicationRequest(CODE.baclofen, { status: 'stopped', authoredOn: '2025-10-01', statusReason: 'weakness' }),
      observation(loinc('44249-1'), { effectiveDateTime: '2025-12-10', valueInteger: 5 }),
      condition(icd('G93.2'), { verification: 'refuted' }),
    ]);
    expect(evaluation.pathway).toBe('spasticity');
    expect(evaluation.criteria.map((c) => [c.id, c.status])).toEqual([
      ['age-18', 'met'],
      ['spasticity-function-documented', 'met'],
      ['spasticity-scale-documented', 'met'],
      ['prior-treatments-documented', 'met'],
      ['psych-history-documented', 'met'],
      ['icp-documented', 'met'],
    ]);
  });
});
