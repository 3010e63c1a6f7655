/**
 * criteria.md section 3: every criterion that reads a time or a medication reads it in every shape FHIR R4 allows.
 * Times: performed[x] (dateTime, Period closed or open), effective[x] (dateTime, Period, instant), onset[x]
 * (dateTime, Period, Age, Range); a Period without an end runs to the order date only on a record still going on;
 * "completed within" is decided by the record's end. Medications: medicationCodeableConcept, or medicationReference
 * to a contained or separate Medication, by its code or its ingredient. Section 1: the same for draft orders, and
 * a corticosteroid order whose stated route is neither neuraxial nor an injection does not make a steroid injection.
 * Order date 2026-06-15; the patient was born 1970-03-12.
 */
import type { Coding, MedicationRequest, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import {
  CODE,
  allergyIntolerance,
  condition,
  icd,

  loinc,
  medicationRequest,
  medicationStatement,
  observation,
  painScore,
  patient,
  procedure,
  ref,
  rx,
  sct,
  trialAgentDraft,
  trialOrder,
  trialProcedure,
} from './support/builders';
import { criterion, evaluateImplant, run } from './support/evaluate';
import { MEDICATION_SHAPES, type TimeShape, withMedication, withTime } from './support/shapes';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CNMP = condition(icd('M96.1', 'Postlaminectomy syndrome'));
const CANCER_PAIN = condition(icd('G89.3'));
const SPASTICITY = condition(icd('G35.A'));

async function statusOn(pathwayCondition: Resource, id: string, resources: Resource[]) {
  return criterion(await evaluateImplant(engine, [pathwayCondition, ...resources]), id);
}

/** An observation time in the 12 months before the order, and one before them, in each effective[x] shape. */
const RECENT_OBSERVATION: Array<[string, TimeShape]> = [
  ['effectiveDateTime', { dateTime: '2026-01-10T09:00:00Z' }],
  ['effectiveInstant', { instant: '2026-01-10T09:00:00.000Z' }],
  ['effectivePeriod', { period: ['2026-01-10T09:00:00Z', '2026-01-10T10:00:00Z'] }],
  ['effectivePeriod without end', { period: ['2026-01-10T09:00:00Z'] }],
];
const OLD_OBSERVATION: Array<[string, TimeShape]> = [
  ['effectiveDateTime', { dateTime: '2024-01-10T09:00:00Z' }],
  ['effectiveInstant', { instant: '2024-01-10T09:00:00.000Z' }],
  ['effectivePeriod', { period: ['2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'] }],
];

describe.each([
  ['spasticity-function-documented', SPASTICITY, sct('273302005', 'Barthel index')],
  ['spasticity-scale-documented', SPASTICITY, CODE.ashworth],
  ['life-expectancy-documented', CANCER_PAIN, loinc('75328-5', 'Prognosis')],
  ['icp-documented', CANCER_PAIN, loinc('60956-0', 'Intracranial pressure')],
  ['psych-history-documented', SPASTICITY, loinc('44249-1', 'PHQ-9')],
])('%s reads effective[x] in every shape', (id, pathway, code) => {
  test.each(RECENT_OBSERVATION)('%s in the window: met', async (_shape, shape) => {
    const o = withTime(observation(code, { valueInteger: 2 }), 'effective', shape);
    expect(await statusOn(pathway, id, [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });
  test.each(OLD_OBSERVATION)('%s before the window: not-documented', async (_shape, shape) => {
    const o = withTime(observation(code, { valueInteger: 2 }), 'effective', shape);
    expect((await statusOn(pathway, id, [o])).status).toBe('not-documented');
  });
});

test('an effectivePeriod that began before the 12 months and ended within them counts: met', async () => {
  const o = withTime(observation(sct('273302005', 'Barthel index'), { valueInteger: 60 }), 'effective', { period: ['2025-05-01', '2025-07-01'] });
  expect(await statusOn(SPASTICITY, 'spasticity-function-documented', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
});

describe('psych-history-documented reads the evaluation performed[x] in every shape (24 months, by its end)', () => {
  test.each<[string, TimeShape, string]>([
    ['performedDateTime', { dateTime: '2025-01-10' }, 'met'],
    ['performedPeriod ending in the 24 months', { period: ['2024-05-01', '2024-07-01'] }, 'met'],
    ['performedPeriod ending before the 24 months', { period: ['2024-03-01', '2024-05-01'] }, 'not-documented'],
  ])('%s: %s', async (_label, shape, expected) => {
    const p = withTime(procedure(CODE.psychEvaluation), 'performed', shape);
    expect((await statusOn(SPASTICITY, 'psych-history-documented', [p])).status).toBe(expected);
  });
});

describe('spasticity-scale-reduction reads the scores\' effective[x] in every shape', () => {
  const trial = trialProcedure({ performedPeriod: ['2026-05-01T10:00:00Z', '2026-05-04T10:00:00Z'] });
  test.each<[string, TimeShape, TimeShape]>([
    ['effectiveDateTime', { dateTime: '2026-04-20T10:00:00Z' }, { dateTime: '2026-05-02T10:00:00Z' }],
    ['effectiveInstant', { instant: '2026-04-20T10:00:00.000Z' }, { instant: '2026-05-02T10:00:00.000Z' }],
    ['effectivePeriod', { period: ['2026-04-20T10:00:00Z', '2026-04-20T10:30:00Z'] }, { period: ['2026-05-02T10:00:00Z', '2026-05-02T10:30:00Z'] }],
  ])('%s: Ashworth 3 -> 1, met', async (_label, before, during) => {
    const baseline = withTime(observation(CODE.ashworth, { valueInteger: 3 }), 'effective', before);
    const inTrial = withTime(observation(CODE.ashworth, { valueInteger: 1 }), 'effective', during);
    expect(await statusOn(SPASTICITY, 'spasticity-scale-reduction', [trial, baseline, inTrial]))
      .toMatchObject({ status: 'met', evidence: [ref(baseline), ref(inTrial)] });
  });
});

describe('trial-pain-reduction-documented (cancer-pain) reads the scores\' effective[x] in every shape', () => {
  const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
  test.each<[string, TimeShape, TimeShape]>([
    ['effectiveInstant', { instant: '2026-04-20T10:00:00.000Z' }, { instant: '2026-05-03T10:00:00.000Z' }],
    ['effectivePeriod', { period: ['2026-04-20T10:00:00Z', '2026-04-20T10:30:00Z'] }, { period: ['2026-05-03T10:00:00Z', '2026-05-03T10:30:00Z'] }],
  ])('%s: both scores found, met', async (_label, before, during) => {
    const baseline = withTime(painScore(7, '2026-01-01T00:00:00Z'), 'effective', before);
    const inTrial = withTime(painScore(4, '2026-01-01T00:00:00Z'), 'effective', during);
    expect(await statusOn(CANCER_PAIN, 'trial-pain-reduction-documented', [trial, baseline, inTrial]))
      .toMatchObject({ status: 'met', evidence: [ref(baseline), ref(inTrial)] });
  });
});

describe('cnmp-conservative-failure reads the stopped therapy\'s time in every shape (24-month window)', () => {
  test.each<[string, Resource, string]>([
    ['MedicationStatement effectivePeriod in the window', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'nausea', effectivePeriod: ['2025-01-01', '2025-03-01'] }), 'met'],
    ['MedicationStatement effectiveDateTime in the window', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'nausea', effectiveDateTime: '2025-01-01' }), 'met'],
    ['MedicationStatement effectivePeriod before the window', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'nausea', effectivePeriod: ['2023-01-01', '2023-03-01'] }), 'not-documented'],
    ['physical therapy performedPeriod in the window', procedure(CODE.physicalTherapy, { status: 'stopped', statusReason: 'pain', performedPeriod: ['2025-01-01', '2025-02-01'] }), 'met'],
    ['physical therapy performedDateTime before the window', procedure(CODE.physicalTherapy, { status: 'stopped', statusReason: 'pain', performedDateTime: '2023-01-01' }), 'not-documented'],
  ])('%s: %s', async (_label, record, expected) => {
    expect((await statusOn(CNMP, 'cnmp-conservative-failure', [record])).status).toBe(expected);
  });
});

describe('psych-history-documented reads onset[x] in every shape', () => {
  const depression = (shape: TimeShape) => withTime(condition(icd('F32.9'), { clinical: 'resolved' }), 'onset', shape);
  test.each<[string, TimeShape]>([
    ['onsetDateTime', { dateTime: '2025-02-01' }],
    ['onsetPeriod', { period: ['2025-02-01', '2025-05-01'] }],
    ['onsetPeriod that began before the window and ended in it', { period: ['2023-02-01', '2025-05-01'] }],
    ['onsetAge (56: from 2026-03-12)', { ageYears: 56 }],
    ['onsetRange (50-56 years)', { rangeYears: [50, 56] }],
  ])('%s in the 24 months: met', async (_label, shape) => {
    const c = depression(shape);
    expect(await statusOn(SPASTICITY, 'psych-history-documented', [c])).toMatchObject({ status: 'met', evidence: [ref(c)] });
  });
  test.each<[string, TimeShape]>([
    ['onsetDateTime', { dateTime: '2023-02-01' }],
    ['onsetPeriod', { period: ['2022-02-01', '2023-05-01'] }],
    ['onsetAge (50: 2020)', { ageYears: 50 }],
    ['onsetRange (40-50 years)', { rangeYears: [40, 50] }],
  ])('%s before the 24 months: not-documented', async (_label, shape) => {
    expect((await statusOn(SPASTICITY, 'psych-history-documented', [depression(shape)])).status).toBe('not-documented');
  });
});

describe('cnmp-psych-clearance: "completed within 12 months" is decided by the evaluation\'s end', () => {
  const evaluation = (shape: TimeShape, status: 'completed' | 'in-progress' = 'completed') =>
    withTime(procedure(CODE.psychEvaluation, { status }), 'performed', shape);
  test.each<[string, TimeShape]>([
    ['performedDateTime', { dateTime: '2026-02-01' }],
    ['performedPeriod', { period: ['2026-02-01T09:00:00Z', '2026-02-01T11:00:00Z'] }],
    ['performedPeriod that began 13 months before and ended within 12', { period: ['2025-05-01', '2025-07-01'] }],
  ])('%s: met', async (_label, shape) => {
    const p = evaluation(shape);
    expect(await statusOn(CNMP, 'cnmp-psych-clearance', [p])).toMatchObject({ status: 'met', evidence: [ref(p)] });
  });
  test('a performedPeriod ending 13 months before: not-documented', async () => {
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [evaluation({ period: ['2025-03-01', '2025-05-01'] })])).status).toBe('not-documented');
  });
  test('a completed evaluation whose open performedPeriod began 13 months before has no later end: not-documented', async () => {
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [evaluation({ period: ['2025-05-01'] })])).status).toBe('not-documented');
  });
});

describe('cnmp-psych-clearance: treatment by an active MedicationRequest or MedicationStatement for the condition', () => {
  const depression = condition(icd('F32.1'));
  const evaluationDone = procedure(CODE.psychEvaluation, { performedDateTime: '2026-02-01' });
  test('an active MedicationStatement whose reasonReference is the condition: treated, met', async () => {
    const statement = { ...medicationStatement(rx('36437', 'sertraline'), { status: 'active', effectivePeriod: ['2025-11-01'] }),
      reasonReference: [{ reference: ref(depression) }] };
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [depression, evaluationDone, statement])).status).toBe('met');
  });
  test('an active MedicationStatement whose reasonCode is the condition: treated, met', async () => {
    const statement = { ...medicationStatement(rx('36437', 'sertraline'), { status: 'active' }), reasonCode: [{ coding: [icd('F32.1')] }] };
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [depression, evaluationDone, statement])).status).toBe('met');
  });
  test('a completed MedicationStatement does not treat it: not-met', async () => {
    const statement = { ...medicationStatement(rx('36437', 'sertraline'), { status: 'completed' }), reasonCode: [{ coding: [icd('F32.1')] }] };
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [depression, evaluationDone, statement])).status).toBe('not-met');
  });
});

describe('cnmp-psych-clearance reads the psychotherapy performed[x] in every shape', () => {
  const depression = condition(icd('F32.1'));
  const evaluationDone = procedure(CODE.psychEvaluation, { performedDateTime: '2026-02-01' });
  test.each<[string, TimeShape, string]>([
    ['performedDateTime in the 6 months', { dateTime: '2026-03-01' }, 'met'],
    ['performedPeriod ending in the 6 months', { period: ['2025-10-01', '2026-01-01'] }, 'met'],
    ['in-progress performedPeriod without end (runs to the order date)', { period: ['2025-06-01'] }, 'met'],
    ['performedPeriod ending before the 6 months', { period: ['2025-06-01', '2025-09-01'] }, 'not-met'],
  ])('%s: %s', async (label, shape, expected) => {
    const status = label.startsWith('in-progress') ? 'in-progress' : 'completed';
    const therapy = withTime(procedure(CODE.psychotherapy, { status }), 'performed', shape);
    expect((await statusOn(CNMP, 'cnmp-psych-clearance', [depression, evaluationDone, therapy])).status).toBe(expected);
  });
});

describe('cnmp-conservative-6mo reads performed[x], effective[x] and the order times in every shape', () => {
  const pt = (shape: TimeShape, status: 'completed' | 'in-progress' = 'completed') =>
    withTime(procedure(CODE.physicalTherapy, { status }), 'performed', shape);
  test.each<[string, Resource, string]>([
    ['physical therapy performedPeriod over 8 months', pt({ period: ['2025-09-01', '2026-05-01'] }), 'met'],
    ['physical therapy in progress, performedPeriod without end from 8 months before (runs to the order date)', pt({ period: ['2025-10-01'] }, 'in-progress'), 'met'],
    ['physical therapy completed, performedPeriod without end (ends where it starts)', pt({ period: ['2025-10-01'] }), 'not-met'],
    ['physical therapy performedDateTime (one day)', pt({ dateTime: '2025-10-01' }), 'not-met'],
    ['active MedicationStatement, effectivePeriod without end from 8 months before',
      medicationStatement(CODE.gabapentin, { status: 'active', effectivePeriod: ['2025-10-01'] }), 'met'],
    ['completed MedicationStatement, effectivePeriod over 7 months',
      medicationStatement(CODE.gabapentin, { effectivePeriod: ['2025-10-01', '2026-05-01'] }), 'met'],
    ['completed MedicationStatement, effectivePeriod without end', medicationStatement(CODE.gabapentin, { effectivePeriod: ['2025-10-01'] }), 'not-met'],
    ['MedicationStatement effectiveDateTime', medicationStatement(CODE.gabapentin, { effectiveDateTime: '2025-10-01' }), 'not-met'],
    ['active MedicationRequest authored 8 months before (runs to the order date)', medicationRequest(CODE.gabapentin, { authoredOn: '2025-10-01' }), 'met'],
    ['completed MedicationRequest with a validity period of 7 months',
      medicationRequest(CODE.gabapentin, { status: 'completed', authoredOn: '2025-10-01', validityEnd: '2026-05-01' }), 'met'],
    ['completed MedicationRequest with authoredOn alone', medicationRequest(CODE.gabapentin, { status: 'completed', authoredOn: '2025-10-01' }), 'not-met'],
  ])('%s: %s', async (_label, record, expected) => {
    expect(await statusOn(CNMP, 'cnmp-conservative-6mo', [record])).toMatchObject({ status: expected, evidence: [ref(record)] });
  });
});

describe('cnmp-conservative-failure reads the AllergyIntolerance onset[x] in every shape', () => {
  const intolerance = (shape: TimeShape) => withTime(allergyIntolerance(CODE.oxycodone), 'onset', shape);
  test.each<[string, TimeShape, string]>([
    ['onsetDateTime in the 24 months', { dateTime: '2025-03-01' }, 'met'],
    ['onsetPeriod in the 24 months', { period: ['2025-03-01', '2025-04-01'] }, 'met'],
    ['onsetAge 56 (2026-03-12)', { ageYears: 56 }, 'met'],
    ['onsetRange 55-56 years', { rangeYears: [55, 56] }, 'met'],
    ['onsetDateTime before the 24 months', { dateTime: '2023-03-01' }, 'not-documented'],
    ['onsetAge 50 (2020)', { ageYears: 50 }, 'not-documented'],
  ])('%s: %s', async (_label, shape, expected) => {
    expect((await statusOn(CNMP, 'cnmp-conservative-failure', [intolerance(shape)])).status).toBe(expected);
  });
});

describe('trial-completed reads performed[x] in every shape; the trial is completed before the order by its end', () => {
  test.each<[string, TimeShape, string]>([
    ['performedDateTime', { dateTime: '2026-05-01T10:00:00Z' }, 'met'],
    ['performedPeriod', { period: ['2026-05-01T10:00:00Z', '2026-05-04T10:00:00Z'] }, 'met'],
    ['performedPeriod without end', { period: ['2026-05-01T10:00:00Z'] }, 'met'],
    ['performedPeriod ending after the order date', { period: ['2026-06-10', '2026-06-20'] }, 'not-documented'],
  ])('%s: %s', async (_label, shape, expected) => {
    const trial = withTime(trialProcedure(), 'performed', shape);
    expect((await statusOn(CNMP, 'trial-completed', [trial])).status).toBe(expected);
  });
});

describe('cnmp-trial-pain-reduction-50 reads the scores\' effective[x] and the trial\'s performed[x] in every shape', () => {
  const trial = trialProcedure({ performedPeriod: ['2026-05-01T10:00:00Z', '2026-05-04T10:00:00Z'] });
  test.each<[string, TimeShape, TimeShape]>([
    ['effectiveDateTime', { dateTime: '2026-04-20T10:00:00Z' }, { dateTime: '2026-05-02T10:00:00Z' }],
    ['effectiveInstant', { instant: '2026-04-20T10:00:00.000Z' }, { instant: '2026-05-02T10:00:00.000Z' }],
    ['effectivePeriod', { period: ['2026-04-20T10:00:00Z', '2026-04-20T10:05:00Z'] }, { period: ['2026-05-02T10:00:00Z', '2026-05-02T10:05:00Z'] }],
  ])('baseline and during-trial score as %s: 8 -> 3 met', async (_label, before, during) => {
    const baseline = withTime(painScore(8, '2026-01-01T00:00:00Z'), 'effective', before);
    const inTrial = withTime(painScore(3, '2026-01-01T00:00:00Z'), 'effective', during);
    expect(await statusOn(CNMP, 'cnmp-trial-pain-reduction-50', [trial, baseline, inTrial]))
      .toMatchObject({ status: 'met', evidence: [ref(baseline), ref(inTrial)] });
  });
  test('a trial with a performedDateTime: a score within 7 days after it counts', async () => {
    const pointTrial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
    const baseline = painScore(8, '2026-04-20T10:00:00Z');
    const inTrial = withTime(painScore(3, '2026-01-01T00:00:00Z'), 'effective', { instant: '2026-05-06T10:00:00.000Z' });
    expect((await statusOn(CNMP, 'cnmp-trial-pain-reduction-50', [pointTrial, baseline, inTrial])).status).toBe('met');
  });
});

describe('prior-treatments-documented reads the medication time in every shape', () => {
  test.each<[string, Resource]>([
    ['MedicationStatement effectiveDateTime', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'nausea', effectiveDateTime: '2025-03-01' })],
    ['MedicationStatement effectivePeriod', medicationStatement(CODE.oxycodone, { status: 'stopped', statusReason: 'nausea', effectivePeriod: ['2025-03-01', '2025-04-01'] })],
    ['Procedure performedPeriod without end', procedure(CODE.physicalTherapy, { status: 'stopped', statusReason: 'pain', performedPeriod: ['2025-03-01'] })],
  ])('%s: met', async (_label, record) => {
    expect(await statusOn(CANCER_PAIN, 'prior-treatments-documented', [record])).toMatchObject({ status: 'met', evidence: [ref(record)] });
  });
});

describe.each(MEDICATION_SHAPES)('medication as %s', (shape) => {
  test('cnmp-conservative-6mo counts a pain MedicationStatement', async () => {
    const [statement, ...rest] = withMedication(medicationStatement(CODE.gabapentin, { effectivePeriod: ['2025-10-01', '2026-05-01'] }), shape);
    expect(await statusOn(CNMP, 'cnmp-conservative-6mo', [statement, ...rest])).toMatchObject({ status: 'met', evidence: [ref(statement)] });
  });

  test('cnmp-conservative-failure counts a stopped pain MedicationRequest with a statusReason', async () => {
    const [order, ...rest] = withMedication(
      medicationRequest(CODE.oxycodone, { status: 'stopped', statusReason: 'constipation', authoredOn: '2025-09-01' }), shape);
    expect(await statusOn(CNMP, 'cnmp-conservative-failure', [order, ...rest])).toMatchObject({ status: 'met', evidence: [ref(order)] });
  });

  test('prior-treatments-documented (pain) counts a pain MedicationRequest with a statusReason and a date', async () => {
    const [order, ...rest] = withMedication(
      medicationRequest(CODE.oxycodone, { status: 'stopped', statusReason: 'sedation', authoredOn: '2025-09-01' }), shape);
    expect(await statusOn(CANCER_PAIN, 'prior-treatments-documented', [order, ...rest])).toMatchObject({ status: 'met', evidence: [ref(order)] });
  });

  test('prior-treatments-documented (spasticity) counts an antispasticity MedicationStatement', async () => {
    const [statement, ...rest] = withMedication(
      medicationStatement(CODE.tizanidine, { status: 'stopped', statusReason: 'weakness', effectiveDateTime: '2025-09-01' }), shape);
    expect(await statusOn(SPASTICITY, 'prior-treatments-documented', [statement, ...rest])).toMatchObject({ status: 'met', evidence: [ref(statement)] });
  });

  test('a medication that is not a pain medication does not count', async () => {
    const [statement, ...rest] = withMedication(medicationStatement(CODE.lisinopril, { effectivePeriod: ['2025-10-01', '2026-05-01'] }), shape);
    expect((await statusOn(CNMP, 'cnmp-conservative-6mo', [statement, ...rest])).status).toBe('not-documented');
  });

  test('a trial order is evaluated when the draft trial agent is given this way', async () => {
    const [draft, ...rest] = withMedication(trialAgentDraft(), shape);
    const result = await run(engine, [patient()], trialOrder(), { drafts: [draft, ...rest] });
    expect(result.evaluation?.phase).toBe('trial');
  });

  test('a draft corticosteroid given this way makes it a steroid injection: not evaluated', async () => {
    const [steroid, ...rest] = withMedication(medicationRequest(CODE.methylprednisolone, { status: 'draft' }), shape);
    const result = await run(engine, [patient()], trialOrder(), { drafts: [trialAgentDraft(), steroid, ...rest] });
    expect(result.evaluation).toBeNull();
  });
});

describe('a corticosteroid draft order whose route is stated and is neither neuraxial nor an injection', () => {
  const route = (coding: Coding | null, text?: string) => ({ route: { ...(coding ? { coding: [coding] } : {}), ...(text ? { text } : {}) } });
  const steroid = (dosage: MedicationRequest['dosageInstruction']): MedicationRequest => ({
    ...medicationRequest(rx('3264', 'dexamethasone'), { status: 'draft' }), dosageInstruction: dosage,
  });
  test.each<[string, MedicationRequest, boolean]>([
    ['oral dexamethasone (SNOMED oral route): says nothing about the procedure, evaluated', steroid([route(sct('26643006', 'Oral route'))]), true],
    ['route given only as text "by mouth": evaluated', steroid([route(null, 'by mouth')]), true],
    ['no route stated: a steroid injection, not evaluated', steroid(undefined), false],
    ['epidural route: a steroid injection, not evaluated', steroid([route(sct('404820008', 'Epidural route'))]), false],
    ['route text "intrathecal": not evaluated', steroid([route(null, 'Intrathecal')]), false],
    ['intravenous route (an injection): not evaluated', steroid([route(sct('47625008', 'Intravenous route'))]), false],
    ['one oral and one epidural dosage: not evaluated', steroid([route(sct('26643006')), route(sct('404820008'))]), false],
  ])('%s', async (_label, order, evaluated) => {
    const result = await run(engine, [patient()], trialOrder(), { drafts: [trialAgentDraft(), order] });
    expect(result.evaluation !== null).toBe(evaluated);
  });

  test('oral prednisone is a corticosteroid too (not evaluated without a route)', async () => {
    const result = await run(engine, [patient()], trialOrder(), { drafts: [trialAgentDraft(), medicationRequest(rx('8640', 'prednisone'), { status: 'draft' })] });
    expect(result.evaluation).toBeNull();
  });
});

describe('trial-completed: a 6232x whose usedReference is a corticosteroid Medication was a steroid injection', () => {
  test.each(['contained', 'separate'] as const)('%s Medication', async (shape) => {
    const medication = { resourceType: 'Medication', id: shape === 'contained' ? 'steroid' : 'steroid-1', code: { coding: [CODE.methylprednisolone] } } as Resource;
    const injection = {
      ...trialProcedure({ performedDateTime: '2026-05-01' }),
      ...(shape === 'contained' ? { contained: [medication] } : {}),
      usedReference: [{ reference: shape === 'contained' ? '#steroid' : 'Medication/steroid-1' }],
    } as Resource;
    const record = shape === 'contained' ? [injection] : [injection, medication];
    expect((await statusOn(CNMP, 'trial-completed', record)).status).toBe('not-documented');
  });

  test('a usedReference to the trial agent (morphine) leaves it a trial: met', async () => {
    const trial = { ...trialProcedure({ performedDateTime: '2026-05-01' }), contained: [{ resourceType: 'Medication', id: 'agent', code: { coding: [CODE.morphine] } }],
      usedReference: [{ reference: '#agent' }] } as Resource;
    expect(await statusOn(CNMP, 'trial-completed', [trial])).toMatchObject({ status: 'met', evidence: [ref(trial)] });
  });
});

describe('names come from the value sets', () => {
  test.each([
    ['ziconotide (no RxNorm code in the set) by name in text', trialAgentDraft({ text: 'Ziconotide 2.4 mcg/day intrathecal' }), 'trial'],
  ])('%s', async (_label, draft, phase) => {
    const uncoded: MedicationRequest = { ...draft, medicationCodeableConcept: { text: draft.medicationCodeableConcept?.text } };
    const result = await run(engine, [patient()], trialOrder(), { drafts: [uncoded] });
    expect(result.evaluation?.phase).toBe(phase);
  });

  test('dantrolene by name counts as an antispasticity medication', async () => {
    const statement = { ...medicationStatement(CODE.tizanidine, { status: 'stopped', statusReason: 'liver enzymes', effectiveDateTime: '2025-09-01' }),
      medicationCodeableConcept: { text: 'Dantrolene sodium 25 mg capsule' } };
    expect(await statusOn(SPASTICITY, 'prior-treatments-documented', [statement])).toMatchObject({ status: 'met', evidence: [ref(statement)] });
  });

  test('a Medication whose ingredient is named only in text counts', async () => {
    const [order, medication] = withMedication(medicationRequest(null, { status: 'stopped', statusReason: 'itching', authoredOn: '2025-09-01', text: 'MS Contin (morphine sulfate) 15 mg' }), 'separate');
    expect(await statusOn(CANCER_PAIN, 'prior-treatments-documented', [order, medication])).toMatchObject({ status: 'met', evidence: [ref(order)] });
  });

  test('a contained Medication is not confused with a separate one of the same id', async () => {
    const [order] = withMedication(medicationRequest(CODE.lisinopril, { status: 'stopped', statusReason: 'cough', authoredOn: '2025-09-01' }), 'contained');
    const decoy = { resourceType: 'Medication', id: 'med', code: { coding: [CODE.oxycodone] } } as Resource;
    expect((await statusOn(CANCER_PAIN, 'prior-treatments-documented', [order, decoy])).status).toBe('not-documented');
  });
});

describe('SNOMED CT malignant neoplasm and metastasis concepts from the published expansion', () => {
  test('an active 109838007 (overlapping malignant neoplasm of colon) with chronic pain: cancer-pain', async () => {
    const evaluation = await evaluateImplant(engine, [CNMP, condition(sct('109838007'))]);
    expect(evaluation.pathway).toBe('cancer-pain');
  });

  test.each([['94260004'], ['314994000']])('a Condition coded %s documents metastases', async (code) => {
    const metastasis = condition(sct(code));
    expect(await statusOn(CANCER_PAIN, 'metastases-documented', [metastasis])).toMatchObject({ status: 'met', evidence: [ref(metastasis)] });
  });

  test('a neoplasm of uncertain behaviour is not a malignancy: chronic pain stays chronic-non-malignant-pain', async () => {
    const evaluation = await evaluateImplant(engine, [CNMP, condition(sct('109914007', 'Neoplasm of uncertain behavior of meninges'))]);
    expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
  });
});



