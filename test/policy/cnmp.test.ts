/**
 * criteria.md section 3, chronic-non-malignant-pain: cnmp-etiology, cnmp-no-further-treatment, cnmp-conservative-6mo,
 * cnmp-conservative-failure, cnmp-psych-clearance. The order date is 2026-06-15: the 24-month window starts
 * 2024-06-15, the 12-month one 2025-06-15, the 6-month one 2025-12-15.
 * (trial-completed and cnmp-trial-pain-reduction-50 are in trial.test.ts.)
 */
import type { Coding, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import {
  CODE,
  allergyIntolerance,
  condition,
  icd,
  implantOrder,
  medicationRequest,
  medicationStatement,
  observation,
  procedure,
  ref,
  rx,
  sct,
} from './support/builders';
import { criterion, evaluateImplant, evaluateTrial } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CNMP = icd('M96.1', 'Postlaminectomy syndrome');

/** The criterion's result on a CNMP implant order for a patient with an active M96.1 plus the given resources. */
async function cnmp(id: string, resources: Resource[], order = implantOrder()) {
  const evaluation = await evaluateImplant(engine, [condition(CNMP), ...resources], order);
  expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
  return criterion(evaluation, id);
}

describe('cnmp-etiology', () => {
  test('an active CNMP Condition: met, evidence that Condition', async () => {
    const crps = condition(icd('G90.511'));
    const evaluation = await evaluateImplant(engine, [crps]);
    expect(criterion(evaluation, 'cnmp-etiology')).toMatchObject({ status: 'met', evidence: [ref(crps)] });
  });

  test("the order's reasonCode alone does not document it", async () => {
    const evaluation = await evaluateImplant(engine, [], implantOrder({ reasonCode: [icd('G89.4')] }));
    expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
    expect(criterion(evaluation, 'cnmp-etiology').status).toBe('not-documented');
  });

  test('a reasonReference to an active CNMP Condition documents it', async () => {
    const cnmpCondition = condition(icd('G90.511'));
    const evaluation = await evaluateImplant(engine, [cnmpCondition], implantOrder({ reasonReference: [cnmpCondition] }));
    expect(criterion(evaluation, 'cnmp-etiology')).toMatchObject({ status: 'met', evidence: [ref(cnmpCondition)] });
  });

  test.each([
    ['G89.29 other chronic pain', icd('G89.29')],
    ['G89.4 chronic pain syndrome', icd('G89.4')],
    ['SNOMED 82423001 chronic pain', sct('82423001')],
  ])('%s alone puts the patient on the pathway but documents no etiology', async (_label, code) => {
    const bare = condition(code);
    const evaluation = await evaluateImplant(engine, [bare], implantOrder({ reasonReference: [bare] }));
    expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
    expect(criterion(evaluation, 'cnmp-etiology')).toMatchObject({ status: 'not-documented', evidence: [ref(bare)] });
  });

  test('chronic pain due to trauma (G89.21) names its cause: met', async () => {
    const trauma = condition(icd('G89.21'));
    expect(criterion(await evaluateImplant(engine, [trauma]), 'cnmp-etiology')).toMatchObject({ status: 'met', evidence: [ref(trauma)] });
  });

  test('a reasonReference to a resolved CNMP Condition picks the pathway but does not document the etiology', async () => {
    const resolved = condition(icd('G89.4'), { clinical: 'resolved' });
    const evaluation = await evaluateImplant(engine, [resolved], implantOrder({ reasonReference: [resolved] }));
    expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
    expect(criterion(evaluation, 'cnmp-etiology').status).toBe('not-documented');
  });

  test('a refuted or entered-in-error CNMP Condition does not document it', async () => {
    const order = implantOrder({ reasonCode: [CNMP] });
    const refuted = await evaluateImplant(engine, [condition(CNMP, { verification: 'refuted' })], order);
    expect(criterion(refuted, 'cnmp-etiology').status).toBe('not-documented');
    const inError = await evaluateImplant(engine, [condition(CNMP, { verification: 'entered-in-error' })], order);
    expect(criterion(inError, 'cnmp-etiology').status).toBe('not-documented');
  });
});

describe('cnmp-no-further-treatment', () => {
  test('a not-done Procedure with a statusReason whose reasonReference is a CNMP Condition: met', async () => {
    const back = condition(icd('M54.16'));
    const notDone = procedure(CODE.laminectomy, { status: 'not-done', statusReason: 'procedure contraindicated', reasonReference: [back] });
    expect(await cnmp('cnmp-no-further-treatment', [back, notDone])).toMatchObject({ status: 'met', evidence: [ref(notDone)] });
  });

  test('a not-done Procedure with a statusReason and a CNMP reasonCode: met', async () => {
    const notDone = procedure(CODE.laminectomy, { status: 'not-done', statusReason: 'patient refused', reasonCode: [icd('G89.4')] });
    expect((await cnmp('cnmp-no-further-treatment', [notDone])).status).toBe('met');
  });

  test.each<[string, Parameters<typeof procedure>[1]]>([
    ['without a statusReason', { status: 'not-done', reasonCode: [icd('G89.4')] }],
    ['that was done', { status: 'completed', performedDateTime: '2025-03-01', statusReason: 'refused', reasonCode: [icd('G89.4')] }],
    ['for a reason outside the CNMP value set', { status: 'not-done', statusReason: 'refused', reasonCode: [icd('I10')] }],
    ['without any reason', { status: 'not-done', statusReason: 'refused' }],
  ])('a Procedure %s: not-documented', async (_name, opts) => {
    expect((await cnmp('cnmp-no-further-treatment', [procedure(CODE.laminectomy, opts)])).status).toBe('not-documented');
  });

  test.each<[string, Coding]>([
    ['Z53.09', icd('Z53.09')],
    ['Z53.1', icd('Z53.1')],
    ['Z53.20', icd('Z53.20')],
    ['Z53.29', icd('Z53.29')],
    ['SNOMED 183932001 (procedure contraindicated)', sct('183932001')],
    ['SNOMED 183944003 (procedure refused)', sct('183944003')],
  ])('a Condition coded %s: met', async (_name, code) => {
    const c = condition(code);
    expect(await cnmp('cnmp-no-further-treatment', [c])).toMatchObject({ status: 'met', evidence: [ref(c)] });
  });

  test('an Observation coded Z53.20: met', async () => {
    const o = observation(icd('Z53.20'), { effectiveDateTime: '2026-02-01' });
    expect(await cnmp('cnmp-no-further-treatment', [o])).toMatchObject({ status: 'met', evidence: [ref(o)] });
  });

  test('Z53.21 (left before being seen) is not among the codes: not-documented', async () => {
    expect((await cnmp('cnmp-no-further-treatment', [condition(icd('Z53.21'))])).status).toBe('not-documented');
  });

  test('an entered-in-error Z53.09 Condition: not-documented', async () => {
    expect((await cnmp('cnmp-no-further-treatment', [condition(icd('Z53.09'), { verification: 'entered-in-error' })])).status).toBe(
      'not-documented',
    );
  });

  test('nothing on record: not-documented without evidence', async () => {
    const result = await cnmp('cnmp-no-further-treatment', []);
    expect(result.status).toBe('not-documented');
    expect('evidence' in result).toBe(false);
  });
});

describe('cnmp-conservative-6mo', () => {
  const pt = (start: string, end: string, opts: Parameters<typeof procedure>[1] = {}) =>
    procedure(CODE.physicalTherapy, { performedPeriod: [start, end], ...opts });

  test('physical therapy spanning exactly 6 months: met', async () => {
    const therapy = pt('2025-06-15', '2025-12-15');
    expect(await cnmp('cnmp-conservative-6mo', [therapy])).toMatchObject({ status: 'met', evidence: [ref(therapy)] });
  });

  test('one day less than 6 months: not-met', async () => {
    const therapy = pt('2025-06-15', '2025-12-14');
    expect(await cnmp('cnmp-conservative-6mo', [therapy])).toMatchObject({ status: 'not-met', evidence: [ref(therapy)] });
  });

  test('the span runs from the earliest start to the latest end across records and kinds', async () => {
    const statement = medicationStatement(CODE.gabapentin, { effectivePeriod: ['2025-01-10', '2025-03-01'] });
    const therapy = pt('2025-06-01', '2025-07-20');
    const result = await cnmp('cnmp-conservative-6mo', [statement, therapy]);
    expect(result.status).toBe('met');
    expect([...(result.evidence ?? [])].sort()).toEqual([ref(statement), ref(therapy)].sort());
  });

  test('an active MedicationRequest runs to the order date: authored exactly 6 months before is met', async () => {
    expect((await cnmp('cnmp-conservative-6mo', [medicationRequest(CODE.duloxetine, { status: 'active', authoredOn: '2025-12-15' })])).status).toBe('met');
  });

  test('an active MedicationRequest authored a day later: not-met', async () => {
    expect((await cnmp('cnmp-conservative-6mo', [medicationRequest(CODE.duloxetine, { status: 'active', authoredOn: '2025-12-16' })])).status).toBe(
      'not-met',
    );
  });

  test('a clinical-drug code outside the value set counts when its display names a pain medication as a whole word', async () => {
    // RxNorm 1049621 is a clinical drug (oxycodone 5 MG oral tablet), not an ingredient of the value set.
    const named = rx('1049621', 'oxyCODONE Hydrochloride 5 MG Oral Tablet');
    const rxOrder = medicationRequest(named, { status: 'completed', authoredOn: '2025-01-01', validityEnd: '2025-07-01' });
    expect(await cnmp('cnmp-conservative-6mo', [rxOrder])).toMatchObject({ status: 'met', evidence: [ref(rxOrder)] });
  });

  test('a name inside another word does not count (no whole-word match, no value-set code)', async () => {
    const lookalike = rx('999999', 'Oxycodonex Oral Tablet');
    const rxOrder = medicationRequest(lookalike, { status: 'completed', authoredOn: '2025-01-01', validityEnd: '2025-07-01' });
    expect((await cnmp('cnmp-conservative-6mo', [rxOrder])).status).toBe('not-documented');
  });

  test('a completed MedicationRequest lasts to dispenseRequest.validityPeriod.end', async () => {
    const rxOrder = medicationRequest(CODE.gabapentin, { status: 'completed', authoredOn: '2025-01-01', validityEnd: '2025-07-01' });
    expect((await cnmp('cnmp-conservative-6mo', [rxOrder])).status).toBe('met');
  });

  test('a completed MedicationRequest without a validity period is authoredOn alone', async () => {
    const single = medicationRequest(CODE.gabapentin, { status: 'completed', authoredOn: '2025-01-01' });
    expect((await cnmp('cnmp-conservative-6mo', [single])).status).toBe('not-met');
    const later = medicationRequest(CODE.oxycodone, { status: 'completed', authoredOn: '2025-07-01' });
    expect((await cnmp('cnmp-conservative-6mo', [single, later])).status).toBe('met');
  });

  test('an active MedicationStatement with an open period runs to the order date', async () => {
    const statement = medicationStatement(CODE.duloxetine, { status: 'active', effectivePeriod: ['2025-12-15'] });
    expect((await cnmp('cnmp-conservative-6mo', [statement])).status).toBe('met');
  });

  test('MedicationStatements with effectiveDateTime are points in time', async () => {
    const a = medicationStatement(CODE.gabapentin, { effectiveDateTime: '2025-02-01' });
    const b = medicationStatement(CODE.gabapentin, { effectiveDateTime: '2025-08-01' });
    expect((await cnmp('cnmp-conservative-6mo', [a])).status).toBe('not-met');
    expect((await cnmp('cnmp-conservative-6mo', [a, b])).status).toBe('met');
  });

  test('behavioural health treatment counts (psychotherapy 6 months apart)', async () => {
    const first = procedure(CODE.psychotherapy, { performedDateTime: '2025-10-01T10:00:00Z' });
    const last = procedure(sct('75516001'), { performedDateTime: '2026-04-01T10:00:00Z' });
    expect((await cnmp('cnmp-conservative-6mo', [first, last])).status).toBe('met');
  });

  test('a psychological evaluation is not treatment', async () => {
    const evaluations = [procedure(CODE.psychEvaluation, { performedDateTime: '2025-06-01' }), procedure(CODE.psychEvaluation, { performedDateTime: '2026-01-05' })];
    expect((await cnmp('cnmp-conservative-6mo', evaluations)).status).toBe('not-documented');
  });

  test('only what lies in the 24-month window counts: a period straddling its start is clipped', async () => {
    expect((await cnmp('cnmp-conservative-6mo', [pt('2023-01-01', '2024-12-15')])).status).toBe('met');
    expect((await cnmp('cnmp-conservative-6mo', [pt('2023-01-01', '2024-12-14')])).status).toBe('not-met');
  });

  test('records before the window: not-documented', async () => {
    const old = [pt('2022-01-01', '2023-06-01'), medicationRequest(CODE.gabapentin, { status: 'completed', authoredOn: '2023-01-01', validityEnd: '2024-06-14' })];
    expect((await cnmp('cnmp-conservative-6mo', old)).status).toBe('not-documented');
  });

  test('cancelled and entered-in-error records do not count', async () => {
    const records = [
      medicationRequest(CODE.duloxetine, { status: 'cancelled', authoredOn: '2024-08-01', validityEnd: '2025-08-01' }),
      medicationRequest(CODE.gabapentin, { status: 'entered-in-error', authoredOn: '2024-08-01', validityEnd: '2025-08-01' }),
      medicationStatement(CODE.gabapentin, { status: 'entered-in-error', effectivePeriod: ['2024-08-01', '2025-08-01'] }),
      pt('2024-08-01', '2025-08-01', { status: 'entered-in-error' }),
    ];
    expect((await cnmp('cnmp-conservative-6mo', records)).status).toBe('not-documented');
  });

  test('a medication outside the pain-medication value set and a non-therapy Procedure do not count', async () => {
    const records = [
      medicationRequest(CODE.lisinopril, { status: 'active', authoredOn: '2024-09-01' }),
      procedure(CODE.laminectomy, { performedPeriod: ['2024-09-01', '2025-09-01'] }),
    ];
    expect((await cnmp('cnmp-conservative-6mo', records)).status).toBe('not-documented');
  });

  test('nothing on record: not-documented without evidence', async () => {
    const result = await cnmp('cnmp-conservative-6mo', []);
    expect(result.status).toBe('not-documented');
    expect('evidence' in result).toBe(false);
  });
});

describe('cnmp-conservative-failure', () => {
  test('a pain-medication MedicationRequest stopped with a statusReason: met', async () => {
    const stopped = medicationRequest(CODE.gabapentin, { status: 'stopped', authoredOn: '2025-01-10', statusReason: 'intolerable sedation' });
    expect(await cnmp('cnmp-conservative-failure', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a pain-medication MedicationStatement stopped with a statusReason: met', async () => {
    const stopped = medicationStatement(CODE.oxycodone, { status: 'stopped', effectivePeriod: ['2025-02-01', '2025-04-01'], statusReason: 'no relief' });
    expect(await cnmp('cnmp-conservative-failure', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a physical therapy Procedure stopped with a statusReason: met', async () => {
    const stopped = procedure(CODE.physicalTherapy, { status: 'stopped', performedPeriod: ['2025-03-01', '2025-04-15'], statusReason: 'pain worsened' });
    expect(await cnmp('cnmp-conservative-failure', [stopped])).toMatchObject({ status: 'met', evidence: [ref(stopped)] });
  });

  test('a psychotherapy Procedure stopped with a statusReason: met', async () => {
    const stopped = procedure(CODE.psychotherapy, { status: 'stopped', performedDateTime: '2025-09-01', statusReason: 'no benefit' });
    expect((await cnmp('cnmp-conservative-failure', [stopped])).status).toBe('met');
  });

  test('an intolerance to a pain medication: met', async () => {
    const intolerance = allergyIntolerance(CODE.oxycodone, { type: 'intolerance', recordedDate: '2025-09-01' });
    expect(await cnmp('cnmp-conservative-failure', [intolerance])).toMatchObject({ status: 'met', evidence: [ref(intolerance)] });
  });

  test.each<[string, Resource]>([
    ['an allergy (not an intolerance)', allergyIntolerance(CODE.oxycodone, { type: 'allergy', recordedDate: '2025-09-01' })],
    ['an intolerance to a non-pain medication', allergyIntolerance(CODE.lisinopril, { type: 'intolerance', recordedDate: '2025-09-01' })],
    ['a cancelled order (never taken) with a statusReason', medicationRequest(CODE.duloxetine, { status: 'cancelled', authoredOn: '2025-08-01', statusReason: 'nausea' })],
    ['a stopped order without a statusReason', medicationRequest(CODE.duloxetine, { status: 'stopped', authoredOn: '2025-08-01' })],
    ['a completed order with a statusReason', medicationRequest(CODE.duloxetine, { status: 'completed', authoredOn: '2025-08-01', statusReason: 'course done' })],
    ['a stopped order before the 24-month window', medicationRequest(CODE.gabapentin, { status: 'stopped', authoredOn: '2024-06-14', statusReason: 'dizziness' })],
    ['a stopped non-pain medication', medicationRequest(CODE.lisinopril, { status: 'stopped', authoredOn: '2025-08-01', statusReason: 'cough' })],
    ['a stopped Procedure that is not conservative therapy', procedure(CODE.laminectomy, { status: 'stopped', performedDateTime: '2025-08-01', statusReason: 'bleeding' })],
  ])('%s: not-documented', async (_name, resource) => {
    expect((await cnmp('cnmp-conservative-failure', [resource])).status).toBe('not-documented');
  });

  test('a stopped order on the first day of the window counts', async () => {
    const stopped = medicationRequest(CODE.gabapentin, { status: 'stopped', authoredOn: '2024-06-15', statusReason: 'dizziness' });
    expect((await cnmp('cnmp-conservative-failure', [stopped])).status).toBe('met');
  });
});

describe('cnmp-psych-clearance', () => {
  const evaluationOn = (date: string, opts: Parameters<typeof procedure>[1] = {}) => procedure(CODE.psychEvaluation, { performedDateTime: date, ...opts });

  test.each<[string, Coding]>([
    ['CPT 90791', CODE.psychEvaluation],
    ['CPT 90792', { system: CODE.psychEvaluation.system, code: '90792' }],
    ['CPT 96130', { system: CODE.psychEvaluation.system, code: '96130' }],
    ['SNOMED 10197000', sct('10197000')],
  ])('a completed psychological evaluation (%s) and no psychiatric condition: met', async (_name, code) => {
    const evaluation = procedure(code, { performedDateTime: '2026-02-20' });
    expect(await cnmp('cnmp-psych-clearance', [evaluation])).toMatchObject({ status: 'met', evidence: [ref(evaluation)] });
  });

  test('an evaluation exactly 12 months before the order counts; a day earlier does not', async () => {
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2025-06-15')])).status).toBe('met');
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2025-06-14')])).status).toBe('not-documented');
  });

  test('an evaluation that was not completed: not-documented', async () => {
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20', { status: 'not-done' })])).status).toBe('not-documented');
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20', { status: 'in-progress' })])).status).toBe('not-documented');
  });

  test('no evaluation: not-documented', async () => {
    expect((await cnmp('cnmp-psych-clearance', [])).status).toBe('not-documented');
  });

  test('an active untreated psychiatric Condition: not-met even with an evaluation, evidence names the Condition', async () => {
    const depression = condition(icd('F32.1'));
    const result = await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), depression]);
    expect(result.status).toBe('not-met');
    expect(result.evidence).toContain(ref(depression));
  });

  test('an active untreated psychiatric Condition without an evaluation: not-met', async () => {
    expect((await cnmp('cnmp-psych-clearance', [condition(icd('F41.1'))])).status).toBe('not-met');
  });

  test.each<[string, Coding]>([
    ['F10.20 alcohol dependence', icd('F10.20')],
    ['F11.20 opioid dependence', icd('F11.20')],
    ['F20.9 schizophrenia', icd('F20.9')],
    ['F31.9 bipolar', icd('F31.9')],
    ['F43.10 PTSD', icd('F43.10')],
    ['F60.3 borderline personality', icd('F60.3')],
    ['SNOMED 35489007 depressive disorder', sct('35489007')],
  ])('untreated %s: not-met', async (_name, code) => {
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(code)])).status).toBe('not-met');
  });

  test.each<[string, Coding]>([
    ['F17.210 nicotine dependence', icd('F17.210')],
    ['F03.90 dementia', icd('F03.90')],
    ['F70 mild intellectual disability', icd('F70')],
    ['F84.0 autistic disorder', icd('F84.0')],
  ])('%s does not count: met with an evaluation', async (_name, code) => {
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(code)])).status).toBe('met');
  });

  test('a resolved or refuted psychiatric Condition is not active: met', async () => {
    const conditions = [condition(icd('F32.1'), { clinical: 'resolved' }), condition(icd('F41.1'), { verification: 'refuted' })];
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), ...conditions])).status).toBe('met');
  });

  test('treated by psychotherapy in the 6 months before the order: met', async () => {
    const therapy = procedure(CODE.psychotherapy, { performedDateTime: '2026-03-01' });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(icd('F32.1')), therapy])).status).toBe('met');
  });

  test('psychotherapy exactly 6 months before counts; a day earlier does not', async () => {
    const onEdge = procedure(sct('75516001'), { performedDateTime: '2025-12-15' });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(icd('F32.1')), onEdge])).status).toBe('met');
    const tooOld = procedure(CODE.psychotherapy, { performedDateTime: '2025-12-14' });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(icd('F32.1')), tooOld])).status).toBe('not-met');
  });

  test('treated by an active MedicationRequest whose reasonReference is the Condition: met', async () => {
    const opioidUse = condition(icd('F11.20'));
    const naltrexone = medicationRequest(rx('7243', 'naltrexone'), { status: 'active', authoredOn: '2026-01-05', reasonReference: [opioidUse] });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), opioidUse, naltrexone])).status).toBe('met');
  });

  test('treated by an active MedicationRequest whose reasonCode is the Condition: met', async () => {
    const sertraline = medicationRequest(rx('36437', 'sertraline'), { status: 'active', authoredOn: '2026-01-05', reasonCode: [icd('F32.1')] });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), condition(icd('F32.1')), sertraline])).status).toBe('met');
  });

  test('a MedicationRequest for the Condition that is no longer active does not treat it: not-met', async () => {
    const depression = condition(icd('F32.1'));
    const stopped = medicationRequest(rx('36437', 'sertraline'), { status: 'completed', authoredOn: '2025-09-05', reasonReference: [depression] });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), depression, stopped])).status).toBe('not-met');
  });

  test('an active MedicationRequest for another reason does not treat it: not-met', async () => {
    const depression = condition(icd('F32.1'));
    const pregabalin = medicationRequest(rx('187832', 'pregabalin'), { status: 'active', authoredOn: '2026-01-05', reasonCode: [CNMP] });
    expect((await cnmp('cnmp-psych-clearance', [evaluationOn('2026-02-20'), depression, pregabalin])).status).toBe('not-met');
  });

  test('the same rules on a trial order', async () => {
    const evaluation = await evaluateTrial(engine, [condition(CNMP), evaluationOn('2026-02-20'), condition(icd('F32.1'))]);
    expect(criterion(evaluation, 'cnmp-psych-clearance').status).toBe('not-met');
  });
});
