/**
 * criteria.md section 2 (the indication), the criteria list of every pathway and phase (section 4), the shape of
 * the evaluation, and `age-18`, which every pathway evaluates.
 */
import type { Coding, Condition, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine, DraftOrder } from '../../src/engine/types';
import { condition, cpt, deviceRequest, icd, implantOrder, patient, ref, sct, serviceRequest, SYSTEM, trialAgentDraft, trialOrder } from './support/builders';
import { criterion, evaluate, evaluateImplant, evaluateTrial, statusOf } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CANCER_PAIN = icd('G89.3', 'Neoplasm related pain');
const SPASTICITY = icd('G35', 'Multiple sclerosis');
const CNMP = icd('M96.1', 'Postlaminectomy syndrome');

async function pathwayOf(resources: Resource[], order: DraftOrder = implantOrder()) {
  const evaluation = await evaluateImplant(engine, resources, order);
  return { pathway: evaluation.pathway, otherPathways: evaluation.otherPathways };
}

describe('pathway from the active Conditions', () => {
  test.each<[string, Coding]>([
    ['ICD-10-CM G89.3', CANCER_PAIN],
    ['SNOMED 315241008', sct('315241008')],
    ['SNOMED 735935009', sct('735935009')],
  ])('%s: cancer-pain', async (_name, code) => {
    expect(await pathwayOf([condition(code)])).toEqual({ pathway: 'cancer-pain', otherPathways: undefined });
  });

  test.each<[string, Coding]>([
    ['SNOMED 221360009', sct('221360009')],
    ['ICD-10-CM G35 (pre-FY2026)', icd('G35')],
    ['FY2026 subcode G35.A', icd('G35.A')],
    ['FY2026 subcode G35.B1', icd('G35.B1')],
    ['FY2026 subcode G35.D', icd('G35.D')],
    ['G80.1', icd('G80.1')],
    ['G81.14', icd('G81.14')],
    ['G82.21', icd('G82.21')],
    ['G82.53', icd('G82.53')],
    ['G11.4', icd('G11.4')],
  ])('%s: spasticity', async (_name, code) => {
    expect((await pathwayOf([condition(code)])).pathway).toBe('spasticity');
  });

  test.each<[string, Coding]>([
    ['M96.1', CNMP],
    ['G90.51 (CRPS I)', icd('G90.51')],
    ['G56.42 (CRPS II)', icd('G56.42')],
    ['G57.71 (CRPS II)', icd('G57.71')],
    ['G89.4', icd('G89.4')],
    ['G89.29', icd('G89.29')],
    ['M54.16', icd('M54.16')],
    ['M79.2', icd('M79.2')],
    ['SNOMED 82423001', sct('82423001')],
  ])('%s: chronic-non-malignant-pain', async (_name, code) => {
    expect((await pathwayOf([condition(code)])).pathway).toBe('chronic-non-malignant-pain');
  });

  test.each(['recurrence', 'relapse'] as const)('clinicalStatus %s counts as active', async (clinical) => {
    expect((await pathwayOf([condition(CNMP, { clinical })])).pathway).toBe('chronic-non-malignant-pain');
  });

  test.each(['inactive', 'remission', 'resolved'] as const)('clinicalStatus %s is not active', async (clinical) => {
    expect((await pathwayOf([condition(CNMP, { clinical })])).pathway).toBe('undetermined');
  });

  test('a Condition without clinicalStatus is not active', async () => {
    expect((await pathwayOf([condition(CNMP, { clinical: null })])).pathway).toBe('undetermined');
  });

  test('a refuted Condition is not active whatever its clinicalStatus', async () => {
    expect((await pathwayOf([condition(SPASTICITY, { clinical: 'active', verification: 'refuted' })])).pathway).toBe('undetermined');
  });

  test('an entered-in-error Condition is not active', async () => {
    expect((await pathwayOf([condition(CANCER_PAIN, { verification: 'entered-in-error' })])).pathway).toBe('undetermined');
  });

  test('confirmed, provisional and unconfirmed Conditions are active', async () => {
    expect((await pathwayOf([condition(CNMP, { verification: 'confirmed' })])).pathway).toBe('chronic-non-malignant-pain');
    expect((await pathwayOf([condition(CNMP, { verification: 'provisional' })])).pathway).toBe('chronic-non-malignant-pain');
    expect((await pathwayOf([condition(CNMP, { verification: 'unconfirmed' })])).pathway).toBe('chronic-non-malignant-pain');
  });

  test('Conditions with a code outside the value sets, in the wrong system or without a code are ignored', async () => {
    const noCode: Condition = { ...condition(CNMP), code: undefined };
    const resources = [condition(icd('I10')), condition({ system: SYSTEM.snomed, code: 'M96.1' }), condition({ system: SYSTEM.icd10cm, code: '221360009' }), noCode];
    expect((await pathwayOf(resources)).pathway).toBe('undetermined');
  });

  test('no Condition at all: undetermined, no otherPathways', async () => {
    expect(await pathwayOf([])).toEqual({ pathway: 'undetermined', otherPathways: undefined });
  });
});

describe('several pathways at once', () => {
  test('cancer-pain before spasticity before chronic-non-malignant-pain; the other two go to otherPathways', async () => {
    const { pathway, otherPathways } = await pathwayOf([condition(CNMP), condition(SPASTICITY), condition(CANCER_PAIN)]);
    expect(pathway).toBe('cancer-pain');
    // criteria.md does not fix the order of otherPathways.
    expect([...(otherPathways ?? [])].sort()).toEqual(['chronic-non-malignant-pain', 'spasticity']);
  });

  test('spasticity before chronic-non-malignant-pain', async () => {
    expect(await pathwayOf([condition(CNMP), condition(icd('G35.A'))])).toEqual({
      pathway: 'spasticity',
      otherPathways: ['chronic-non-malignant-pain'],
    });
  });

  test('an inactive Condition of another pathway is not in otherPathways', async () => {
    const evaluation = await evaluateImplant(engine, [condition(CNMP), condition(SPASTICITY, { clinical: 'resolved' })]);
    expect(evaluation.pathway).toBe('chronic-non-malignant-pain');
    expect('otherPathways' in evaluation).toBe(false);
  });
});

describe('pain in a patient with active cancer is cancer-pain', () => {
  test('active malignancy (C50.911) with an active CNMP Condition: cancer-pain, CNMP in otherPathways', async () => {
    expect(await pathwayOf([condition(icd('C50.911')), condition(icd('M54.16'))])).toEqual({
      pathway: 'cancer-pain',
      otherPathways: ['chronic-non-malignant-pain'],
    });
  });

  test('SNOMED 363346000 (malignant neoplastic disease) with CNMP: cancer-pain', async () => {
    expect((await pathwayOf([condition(sct('363346000')), condition(CNMP)])).pathway).toBe('cancer-pain');
  });

  test('C44 (skin, excluded) with CNMP stays chronic-non-malignant-pain', async () => {
    expect(await pathwayOf([condition(icd('C44.91')), condition(CNMP)])).toEqual({ pathway: 'chronic-non-malignant-pain', otherPathways: undefined });
  });

  test('a refuted or resolved malignancy does not make the pain cancer-related', async () => {
    expect(await pathwayOf([condition(icd('C50.911'), { verification: 'refuted' }), condition(CNMP)])).toEqual({
      pathway: 'chronic-non-malignant-pain',
      otherPathways: undefined,
    });
    expect((await pathwayOf([condition(icd('C50.911'), { clinical: 'resolved' }), condition(CNMP)])).pathway).toBe('chronic-non-malignant-pain');
  });

  test('an active malignancy without any pain Condition matches no pathway', async () => {
    expect((await pathwayOf([condition(icd('C50.911'))])).pathway).toBe('undetermined');
  });

  test('malignancy with CNMP but an inactive CNMP Condition: no cancer-pain', async () => {
    expect((await pathwayOf([condition(icd('C50.911')), condition(CNMP, { clinical: 'inactive' })])).pathway).toBe('undetermined');
  });
});

describe("the order's own reason comes first", () => {
  test('reasonReference to a CNMP Condition beats active cancer-pain and spasticity, which go to otherPathways', async () => {
    const cnmp = condition(icd('G89.4'));
    const order = implantOrder({ reasonReference: [cnmp] });
    const { pathway, otherPathways } = await pathwayOf([cnmp, condition(CANCER_PAIN), condition(SPASTICITY)], order);
    expect(pathway).toBe('chronic-non-malignant-pain');
    expect([...(otherPathways ?? [])].sort()).toEqual(['cancer-pain', 'spasticity']);
  });

  test('reasonCode G35 beats an active CNMP Condition', async () => {
    const order = implantOrder({ reasonCode: [icd('G35')] });
    expect(await pathwayOf([condition(CNMP)], order)).toEqual({ pathway: 'spasticity', otherPathways: ['chronic-non-malignant-pain'] });
  });

  test('reasonReference beats the "active cancer + CNMP" rule', async () => {
    const cnmp = condition(CNMP);
    const order = implantOrder({ reasonReference: [cnmp] });
    expect(await pathwayOf([cnmp, condition(icd('C34.90'))], order)).toEqual({ pathway: 'chronic-non-malignant-pain', otherPathways: ['cancer-pain'] });
  });

  test('reasonReference on a DeviceRequest order counts too', async () => {
    const spasticity = condition(sct('221360009'));
    const order = deviceRequest({ system: SYSTEM.hcpcsBlueButton, code: 'E0783' }, { reasonReference: [spasticity] });
    expect((await pathwayOf([spasticity, condition(CANCER_PAIN)], order)).pathway).toBe('spasticity');
  });

  test('several pathways among the reasons: the priority order applies', async () => {
    const order = implantOrder({ reasonCode: [CNMP, CANCER_PAIN] });
    expect((await pathwayOf([], order)).pathway).toBe('cancer-pain');
  });

  test('otherPathways lists only what the active Conditions match, not the other reason codes', async () => {
    const evaluation = await evaluateImplant(engine, [], implantOrder({ reasonCode: [CANCER_PAIN, SPASTICITY] }));
    expect(evaluation.pathway).toBe('cancer-pain');
    expect('otherPathways' in evaluation).toBe(false);
  });

  test('a reason outside every pathway falls back to the active Conditions', async () => {
    const order = implantOrder({ reasonCode: [icd('I10')] });
    expect((await pathwayOf([condition(SPASTICITY)], order)).pathway).toBe('spasticity');
  });

  test('a reasonReference to a Condition that is not in the record falls back to the active Conditions', async () => {
    const elsewhere = condition(CANCER_PAIN, { id: 'not-in-record' });
    expect((await pathwayOf([condition(SPASTICITY)], implantOrder({ reasonReference: [elsewhere] }))).pathway).toBe('spasticity');
  });
});

describe('criteria: exactly the ids of criteria.md for the pathway and phase, each once, in its order', () => {
  const CNMP_TRIAL = ['age-18', 'cnmp-etiology', 'cnmp-no-further-treatment', 'cnmp-conservative-6mo', 'cnmp-conservative-failure', 'cnmp-psych-clearance'];
  const CANCER_TRIAL = ['age-18', 'metastases-documented', 'icp-documented', 'life-expectancy-documented', 'prior-treatments-documented'];
  const SPASTICITY_TRIAL = [
    'age-18',
    'spasticity-function-documented',
    'spasticity-scale-documented',
    'prior-treatments-documented',
    'psych-history-documented',
    'icp-documented',
  ];

  test.each<[string, Coding | null, string[], string[]]>([
    ['chronic-non-malignant-pain', CNMP, CNMP_TRIAL, [...CNMP_TRIAL, 'trial-completed', 'cnmp-trial-pain-reduction-50']],
    ['cancer-pain', CANCER_PAIN, CANCER_TRIAL, [...CANCER_TRIAL, 'trial-completed', 'trial-pain-reduction-documented']],
    [
      'spasticity',
      SPASTICITY,
      SPASTICITY_TRIAL,
      [...SPASTICITY_TRIAL, 'trial-completed', 'spasticity-scale-reduction', 'trial-pain-reduction-documented'],
    ],
    ['undetermined', null, ['age-18'], ['age-18']],
  ])('%s', async (pathway, code, trialIds, implantIds) => {
    const resources = code ? [condition(code)] : [];
    const trial = await evaluateTrial(engine, resources);
    expect(trial).toMatchObject({ phase: 'trial', pathway });
    expect(trial.criteria.map((c) => c.id)).toEqual(trialIds);
    const implant = await evaluateImplant(engine, resources);
    expect(implant).toMatchObject({ phase: 'implant', pathway });
    expect(implant.criteria.map((c) => c.id)).toEqual(implantIds);
  });

  test('every criterion has exactly one of the four statuses', async () => {
    const evaluation = await evaluateImplant(engine, [condition(SPASTICITY)]);
    for (const c of evaluation.criteria) expect(['met', 'not-met', 'not-documented', 'not-applicable']).toContain(c.status);
  });
});

describe('evaluation shape', () => {
  test('evidence is left out of a criterion resting on no resource; present as Type/id when there is one', async () => {
    const cnmp = condition(CNMP);
    const evaluation = await evaluateImplant(engine, [cnmp]);
    const undocumented = criterion(evaluation, 'cnmp-psych-clearance');
    expect(undocumented.status).toBe('not-documented');
    expect('evidence' in undocumented).toBe(false);
    expect(criterion(evaluation, 'cnmp-etiology').evidence).toEqual([ref(cnmp)]);
  });

  test('otherPathways is left out when no other pathway was found', async () => {
    const evaluation = await evaluateImplant(engine, [condition(CNMP)]);
    expect('otherPathways' in evaluation).toBe(false);
  });

  test('every criterion carries a note', async () => {
    const evaluation = await evaluateImplant(engine, [condition(CANCER_PAIN)]);
    for (const c of evaluation.criteria) expect(typeof c.note).toBe('string');
  });
});

describe('age-18', () => {
  const age = async (birthDate: string | null, order = implantOrder()) => {
    const evaluation = await evaluate(engine, [patient({ birthDate }), condition(CNMP)], order);
    return criterion(evaluation, 'age-18');
  };

  test('18 exactly on the order date: met, evidence the Patient', async () => {
    const result = await age('2008-06-15');
    expect(result.status).toBe('met');
    expect(result.evidence).toEqual(['Patient/p1']);
  });

  test('18 the day after the order date: not-met, and the note says the policy does not address under-18s', async () => {
    const result = await age('2008-06-16');
    expect(result.status).toBe('not-met');
    expect(result.evidence).toEqual(['Patient/p1']);
    expect(result.note).toMatch(/under 18/i);
  });

  test('age 16: not-met', async () => {
    expect((await age('2010-01-20')).status).toBe('not-met');
  });

  test('age 54: met', async () => {
    expect((await age('1972-01-01')).status).toBe('met');
  });

  test('birth year and month only', async () => {
    expect((await age('1990-02')).status).toBe('met');
  });

  test('no birthDate: not-documented, no evidence', async () => {
    const result = await age(null);
    expect(result.status).toBe('not-documented');
    expect('evidence' in result).toBe(false);
  });

  test('no Patient resource at all: not-documented', async () => {
    const evaluation = await evaluate(engine, [condition(CNMP)], implantOrder());
    expect(statusOf(evaluation, 'age-18')).toBe('not-documented');
  });

  test('age counts to the order date, also for a trial', async () => {
    const evaluation = await evaluate(engine, [patient({ birthDate: '2008-06-16' })], trialOrder(), { drafts: [trialAgentDraft()] });
    expect(statusOf(evaluation, 'age-18')).toBe('not-met');
  });

  test('undetermined pathway evaluates age-18 only', async () => {
    const evaluation = await evaluate(engine, [patient({ birthDate: '1980-05-05' })], serviceRequest(cpt('62350')));
    expect(evaluation.pathway).toBe('undetermined');
    expect(evaluation.criteria).toEqual([expect.objectContaining({ id: 'age-18', status: 'met' })]);
  });
});
