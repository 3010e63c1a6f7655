/**
 * criteria.md section 1: which draft orders are evaluated, their phase, the triggering coding, the order date,
 * and draft orders staying out of the record.
 */
import type { Coding, Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import {
  CODE,
  ORDER_DATE,
  SYSTEM,
  condition,
  cpt,
  deviceRequest,
  icd,
  medicationRequest,
  patient,
  procedure,
  rx,
  sct,
  serviceRequest,
  trialAgentDraft,
  trialOrder,
} from './support/builders';
import { evaluate, run, statusOf } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

// A CNMP patient: the pathway does not matter here, only whether (and how) the order is evaluated.
const record = (): Resource[] => [patient(), condition(icd('M96.1'))];

/** The phase of the full evaluation; `orderPhase`, which reads only the orders, must always agree with it. */
async function phaseOf(order: Parameters<typeof run>[2], drafts: Resource[] = [], requireTrialAgent?: boolean): Promise<string | null> {
  const result = await run(engine, record(), order, { drafts, requireTrialAgent });
  expect(result.error).toBeUndefined();
  const phase = result.evaluation?.phase ?? null;
  const options = { draftOrders: [order, ...drafts], ...(requireTrialAgent === undefined ? {} : { parameters: { 'Require Trial Agent': requireTrialAgent } }) };
  expect(await engine.orderPhase(order, options)).toBe(phase);
  return phase;
}

describe('trial orders (CPT 62320-62327) need a named intrathecal trial agent', () => {
  test.each(['62320', '62321', '62322', '62323', '62324', '62325', '62326', '62327'])(
    'CPT %s with a draft morphine MedicationRequest is a trial',
    async (code) => {
      expect(await phaseOf(serviceRequest(cpt(code)), [trialAgentDraft()])).toBe('trial');
    },
  );

  test('the agent MedicationRequest counts whatever its status', async () => {
    expect(await phaseOf(trialOrder(), [trialAgentDraft({ status: 'cancelled' })])).toBe('trial');
  });

  test.each([
    ['hydromorphone', '3423'],
    ['fentanyl', '4337'],
    ['baclofen', '1292'],
    ['clonidine', '2599'],
  ])('a draft %s MedicationRequest (RxNorm ingredient) makes it a trial', async (_name, code) => {
    expect(await phaseOf(trialOrder(), [medicationRequest(rx(code), { status: 'draft', authoredOn: ORDER_DATE })])).toBe('trial');
  });

  test('an agent named only in orderDetail text makes it a trial', async () => {
    expect(await phaseOf(trialOrder({ orderDetail: ['Morphine 0.5 mg intrathecal bolus'] }))).toBe('trial');
  });

  test('an agent named as a whole word in a coding display (any code, any case) makes it a trial', async () => {
    const draft = medicationRequest({ system: 'http://example.org/local-formulary', code: 'ZC-25', display: 'ZICONOTIDE 25 mcg/mL intrathecal' }, {
      status: 'draft',
      authoredOn: ORDER_DATE,
    });
    expect(await phaseOf(trialOrder(), [draft])).toBe('trial');
  });

  test('an agent named in the orderDetail coding display makes it a trial', async () => {
    const detail = { coding: [{ system: 'http://example.org/local', code: 'x1', display: 'Sufentanil test dose' }] };
    expect(await phaseOf(trialOrder({ orderDetail: [detail] }))).toBe('trial');
  });

  test('a name inside a longer word ("morphinex") does not count', async () => {
    expect(await phaseOf(trialOrder({ orderDetail: ['morphinex 10 mg'] }))).toBeNull();
    const draft = medicationRequest(null, { status: 'draft', authoredOn: ORDER_DATE, text: 'Hydromorphinexa solution' });
    expect(await phaseOf(trialOrder(), [draft])).toBeNull();
  });

  test('no agent named: an ordinary injection, no evaluation', async () => {
    expect(await phaseOf(trialOrder())).toBeNull();
    expect(await phaseOf(trialOrder({ orderDetail: ['lumbar, 5 mL saline'] }), [medicationRequest(CODE.gabapentin, { status: 'draft', authoredOn: ORDER_DATE })])).toBeNull();
  });

  test('a corticosteroid makes it a steroid injection even when bupivacaine is named too', async () => {
    const steroid = medicationRequest(CODE.methylprednisolone, { status: 'draft', authoredOn: ORDER_DATE });
    const bupivacaine = medicationRequest(CODE.bupivacaine, { status: 'draft', authoredOn: ORDER_DATE });
    expect(await phaseOf(trialOrder(), [steroid, bupivacaine])).toBeNull();
  });

  test('a corticosteroid named only in orderDetail text excludes an otherwise valid trial', async () => {
    expect(await phaseOf(trialOrder({ orderDetail: ['Triamcinolone 40 mg'] }), [trialAgentDraft()])).toBeNull();
  });

  test('requireTrialAgent false: a trial order without any agent is evaluated as a trial', async () => {
    expect(await phaseOf(trialOrder(), [], false)).toBe('trial');
  });

  test('requireTrialAgent false does not turn a steroid injection into a trial', async () => {
    const steroid = medicationRequest(CODE.methylprednisolone, { status: 'draft', authoredOn: ORDER_DATE });
    expect(await phaseOf(trialOrder(), [steroid], false)).toBeNull();
  });
});

describe('implant orders', () => {
  test.each(['62350', '62351', '62360', '62361', '62362'])('CPT %s is an implant order without any agent', async (code) => {
    expect(await phaseOf(serviceRequest(cpt(code)))).toBe('implant');
  });

  test.each([
    ['E0783', SYSTEM.hcpcsBlueButton],
    ['E0783', SYSTEM.hcpcsCms],
    ['E0782', SYSTEM.hcpcsBlueButton],
    ['E0782', SYSTEM.hcpcsCms],
  ])('DeviceRequest %s in %s is an implant order', async (code, system) => {
    const evaluation = await evaluate(engine, record(), deviceRequest({ system, code }));
    expect(evaluation.phase).toBe('implant');
    expect(evaluation.code).toMatchObject({ system, code });
  });

  test.each(['E0785', 'E0786'])('replacement %s is out of scope: no evaluation', async (code) => {
    expect(await phaseOf(deviceRequest({ system: SYSTEM.hcpcsBlueButton, code }))).toBeNull();
  });
});

describe('other orders are ignored', () => {
  test.each([
    ['an MRI order', serviceRequest(cpt('72148'))],
    ['a facet injection', serviceRequest(cpt('64493'))],
    ['62362 in a system other than CPT', serviceRequest({ system: SYSTEM.snomed, code: '62362' })],
    ['E0783 in a system other than HCPCS', deviceRequest({ system: SYSTEM.cpt, code: 'E0783' })],
    ['an order without a code', { ...serviceRequest(cpt('62362')), code: undefined }],
  ])('%s: no evaluation and no error', async (_name, order) => {
    const result = await run(engine, record(), order);
    expect(result.evaluation).toBeNull();
    expect(result.error).toBeUndefined();
  });
});

describe('the evaluation names the order and the coding that triggered', () => {
  test('order reference, policy number and the CPT coding among several codings', async () => {
    const codings: Coding[] = [sct('387714003', 'Implantation of intrathecal pump'), cpt('62362', 'Implantation of spinal pump'), { system: 'http://example.org/local', code: 'PUMP' }];
    const order = serviceRequest(codings, { id: 'order-1' });
    const evaluation = await evaluate(engine, record(), order);
    expect(evaluation.policy).toBe('2022T0626C');
    expect(evaluation.order).toBe('ServiceRequest/order-1');
    expect(evaluation.code).toMatchObject({ system: SYSTEM.cpt, code: '62362' });
  });

  test('a DeviceRequest with a SNOMED coding before the HCPCS one names the HCPCS coding', async () => {
    const order = deviceRequest([sct('360064006', 'Implantable drug pump'), { system: SYSTEM.hcpcsCms, code: 'E0783' }], { id: 'dev-1' });
    const evaluation = await evaluate(engine, record(), order);
    expect(evaluation.order).toBe('DeviceRequest/dev-1');
    expect(evaluation.code).toMatchObject({ system: SYSTEM.hcpcsCms, code: 'E0783' });
  });

  test('a trial order names its 6232x coding', async () => {
    const order = serviceRequest([sct('231249005'), cpt('62323')]);
    const evaluation = await evaluate(engine, record(), order, { drafts: [trialAgentDraft()] });
    expect(evaluation.phase).toBe('trial');
    expect(evaluation.code).toMatchObject({ system: SYSTEM.cpt, code: '62323' });
  });
});

describe('the order date', () => {
  // Born 2008-06-15: 18 on 2026-06-15, 17 the day before.
  const teen = (): Resource[] => [patient({ birthDate: '2008-06-15' }), condition(icd('M96.1'))];

  test('authoredOn is the order date, whatever the call date', async () => {
    const evaluation = await evaluate(engine, teen(), serviceRequest(cpt('62362'), { authoredOn: '2026-06-15' }), { callDate: '2026-06-14' });
    expect(statusOf(evaluation, 'age-18')).toBe('met');
    const earlier = await evaluate(engine, teen(), serviceRequest(cpt('62362'), { authoredOn: '2026-06-14' }), { callDate: '2026-06-15' });
    expect(statusOf(earlier, 'age-18')).toBe('not-met');
  });

  test('without authoredOn the call date is the order date', async () => {
    const onBirthday = await evaluate(engine, teen(), serviceRequest(cpt('62362'), { authoredOn: null }), { callDate: '2026-06-15' });
    expect(statusOf(onBirthday, 'age-18')).toBe('met');
    const dayBefore = await evaluate(engine, teen(), serviceRequest(cpt('62362'), { authoredOn: null }), { callDate: '2026-06-14' });
    expect(statusOf(dayBefore, 'age-18')).toBe('not-met');
  });
});

describe('draft orders are not part of the record', () => {
  test('a draft pain-medication order counts as neither conservative therapy nor its failure', async () => {
    // Were it record, it would span 2025-01-01 to the order date (stopped with a reason).
    const draft = medicationRequest(CODE.oxycodone, { status: 'stopped', authoredOn: '2025-01-01', validityEnd: '2026-06-01', statusReason: 'nausea' });
    const evaluation = await evaluate(engine, record(), serviceRequest(cpt('62362')), { drafts: [draft] });
    expect(statusOf(evaluation, 'cnmp-conservative-6mo')).toBe('not-documented');
    expect(statusOf(evaluation, 'cnmp-conservative-failure')).toBe('not-documented');
  });

  test('the trial agent order itself is not conservative therapy', async () => {
    const agent = trialAgentDraft({ status: 'active', authoredOn: '2025-06-01' });
    const evaluation = await evaluate(engine, record(), trialOrder(), { drafts: [agent] });
    expect(evaluation.phase).toBe('trial');
    expect(statusOf(evaluation, 'cnmp-conservative-6mo')).toBe('not-documented');
  });

  test('a draft that the record also holds (same id) is still a draft', async () => {
    const draft = medicationRequest(CODE.oxycodone, { id: 'shared-1', status: 'active', authoredOn: '2025-01-01', statusReason: 'nausea' });
    const evaluation = await evaluate(engine, [...record(), { ...draft }], serviceRequest(cpt('62362')), { drafts: [draft] });
    expect(statusOf(evaluation, 'cnmp-conservative-6mo')).toBe('not-documented');
  });

  test('a draft treatment for a psychiatric condition does not clear it', async () => {
    const depression = condition(icd('F32.1'));
    const evaluationProc = procedure(CODE.psychEvaluation, { performedDateTime: '2026-03-01' });
    const sertraline = medicationRequest(rx('36437', 'sertraline'), { status: 'active', authoredOn: ORDER_DATE, reasonReference: [depression] });
    const evaluation = await evaluate(engine, [...record(), depression, evaluationProc], serviceRequest(cpt('62362')), { drafts: [sertraline] });
    expect(statusOf(evaluation, 'cnmp-psych-clearance')).toBe('not-met');
  });
});
