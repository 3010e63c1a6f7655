/**
 * Bad input: evaluateOrder never throws. What cannot be read is left out and listed in `skipped`: a whole
 * resource only when it is not a resource (no resourceType, no id, a duplicate); otherwise the element whose JSON
 * does not fit its FHIR type, named by its path, while the rest of the resource is read. What is left out simply
 * does not document anything. A broken value set or ELM stops
 * loadPolicyEngine with a message naming the file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Resource } from 'fhir/r4';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import { CODE, condition, icd, implantOrder, painScore, patient, procedure, trialProcedure } from './support/builders';
import { criterion, run } from './support/evaluate';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await loadPolicyEngine();
});

const CNMP = icd('M96.1');

describe('patient data that is not a Bundle or a list of resources', () => {
  test.each<[string, unknown]>([
    ['a string', 'Patient/p1'],
    ['a number', 42],
    ['null', null],
    ['an object without resourceType', { entry: [{ resource: patient() }] }],
    ['a resource that is not a Bundle', patient()],
  ])('%s: no throw, the order is still evaluated on an empty record, and skipped says why', async (_name, data) => {
    const result = await run(engine, data, implantOrder());
    expect(result.error).toBeUndefined();
    expect(result.evaluation?.pathway).toBe('undetermined');
    expect(criterion(result.evaluation!, 'age-18').status).toBe('not-documented');
    expect(result.skipped).toEqual([expect.objectContaining({ reference: 'patientData', reason: expect.stringMatching(/Bundle/) })]);
  });

  test('a Bundle whose entry is not a list: skipped names Bundle.entry', async () => {
    const result = await run(engine, { resourceType: 'Bundle', type: 'searchset', entry: { resource: patient() } }, implantOrder());
    expect(result.evaluation).not.toBeNull();
    expect(result.skipped).toEqual([expect.objectContaining({ reason: expect.stringMatching(/entry/) })]);
  });

  test('Bundle entries that are null, empty or hold no resource are skipped; the rest is read', async () => {
    const data = { resourceType: 'Bundle', type: 'searchset', entry: [null, { resource: patient() }, {}, { resource: 'Condition/c1' }, { resource: condition(CNMP) }] };
    const result = await run(engine, data, implantOrder());
    expect(result.evaluation?.pathway).toBe('chronic-non-malignant-pain');
    expect(criterion(result.evaluation!, 'age-18').status).toBe('met');
    expect(result.skipped).toHaveLength(3);
    for (const s of result.skipped) expect(s.reason).toEqual(expect.any(String));
  });

  test('a plain list and the same resources in a Bundle give the same evaluation', async () => {
    const resources = [patient(), condition(CNMP, { id: 'same-c' })];
    const order = implantOrder({ id: 'same-order' });
    const fromList = await run(engine, resources, order);
    const fromBundle = await run(engine, { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) }, order);
    expect(fromBundle).toEqual(fromList);
  });
});

describe('resources missing what a criterion needs', () => {
  test('a Condition without a code is ignored', async () => {
    const result = await run(engine, [patient(), { ...condition(CNMP), code: undefined }], implantOrder());
    expect(result.error).toBeUndefined();
    expect(result.evaluation?.pathway).toBe('undetermined');
  });

  test('a pain score without an effective time is not a baseline: not-documented', async () => {
    const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
    const undated = { ...painScore(8, '2026-04-20T10:00:00Z'), effectiveDateTime: undefined };
    const result = await run(engine, [patient(), condition(CNMP), trial, undated, painScore(2, '2026-05-02T10:00:00Z')], implantOrder());
    expect(criterion(result.evaluation!, 'cnmp-trial-pain-reduction-50').status).toBe('not-documented');
  });

  test('a pain score without a value is not a score: not-documented', async () => {
    const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
    const valueless = { ...painScore(2, '2026-05-02T10:00:00Z'), valueQuantity: undefined };
    const result = await run(engine, [patient(), condition(CNMP), trial, painScore(8, '2026-04-20T10:00:00Z'), valueless], implantOrder());
    expect(criterion(result.evaluation!, 'cnmp-trial-pain-reduction-50').status).toBe('not-documented');
  });

  test('a completed trial without a performed date cannot be shown to precede the order: not-documented', async () => {
    const result = await run(engine, [patient(), condition(CNMP), trialProcedure()], implantOrder());
    expect(criterion(result.evaluation!, 'trial-completed').status).toBe('not-documented');
  });

  test('a MedicationRequest without authoredOn has no time: conservative therapy not-documented', async () => {
    const undated = { resourceType: 'MedicationRequest', id: 'undated-1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { coding: [CODE.gabapentin] } } as Resource;
    const result = await run(engine, [patient(), condition(CNMP), undated], implantOrder());
    expect(criterion(result.evaluation!, 'cnmp-conservative-6mo').status).toBe('not-documented');
  });

  test('a resource without an id is skipped (it could not be cited as evidence)', async () => {
    const result = await run(engine, [patient(), { ...condition(CNMP), id: undefined }], implantOrder());
    expect(result.evaluation?.pathway).toBe('undetermined');
    expect(result.skipped).toEqual([expect.objectContaining({ reference: expect.stringMatching(/^Condition/), reason: expect.stringMatching(/id/) })]);
  });

  test('a resource without a resourceType is skipped', async () => {
    const { resourceType: _dropped, ...untyped } = condition(CNMP, { id: 'untyped-1' });
    const result = await run(engine, [patient(), untyped], implantOrder());
    expect(result.evaluation?.pathway).toBe('undetermined');
    expect(result.skipped).toEqual([expect.objectContaining({ reason: expect.stringMatching(/resourceType/) })]);
  });
});

/** One element left out of a resource that was kept. */
const element = (reference: string, path: string) => expect.objectContaining({ reference, path, reason: expect.any(String) });

describe('malformed dates', () => {
  test.each(['2026-13-45', 'yesterday', '2026-02-30', '15/06/2026'])('an Observation effectiveDateTime "%s" is left out, naming the element', async (bad) => {
    const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
    const scores = [painScore(8, '2026-04-20T10:00:00Z'), painScore(2, bad, { id: 'bad-date' })];
    const result = await run(engine, [patient(), condition(CNMP), trial, ...scores], implantOrder());
    expect(result.error).toBeUndefined();
    expect(criterion(result.evaluation!, 'cnmp-trial-pain-reduction-50').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Observation/bad-date', 'effectiveDateTime')]);
  });

  test('a birthDate of Feb 30: age-18 not-documented, the birthDate is listed as left out', async () => {
    const result = await run(engine, [patient({ birthDate: '1970-02-30' }), condition(CNMP)], implantOrder());
    expect(criterion(result.evaluation!, 'age-18').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Patient/p1', 'birthDate')]);
  });

  test('a performedPeriod end that is no date: the end is left out, the Procedure still counts from its start', async () => {
    const pt = procedure(CODE.physicalTherapy, { id: 'pt-bad', performedPeriod: ['2025-01-01', 'ongoing'] });
    const result = await run(engine, [patient(), condition(CNMP), pt], implantOrder());
    expect(criterion(result.evaluation!, 'cnmp-conservative-6mo').status).not.toBe('not-documented');
    expect(result.skipped).toEqual([element('Procedure/pt-bad', 'performedPeriod.end')]);
  });

  test('a date given as a number is left out', async () => {
    const result = await run(engine, [{ ...patient(), birthDate: 19700312 }], implantOrder());
    expect(criterion(result.evaluation!, 'age-18').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Patient/p1', 'birthDate')]);
  });

  test('an order with a malformed authoredOn is evaluated as of the call date, and the authoredOn is listed as left out', async () => {
    const order = { ...implantOrder({ id: 'bad-order' }), authoredOn: 'yesterday' };
    const result = await run(engine, [patient()], order);
    expect(result.error).toBeUndefined();
    expect(result.evaluation?.order).toBe('ServiceRequest/bad-order');
    expect(result.skipped).toEqual([element('draftOrders: ServiceRequest/bad-order', 'authoredOn')]);
  });
});

describe('unexpected value types', () => {
  test('valueQuantity.value as a string: the value is left out, the reduction not-documented', async () => {
    const trial = trialProcedure({ performedDateTime: '2026-05-01T10:00:00Z' });
    const stringy = { ...painScore(2, '2026-05-02T10:00:00Z', { id: 'stringy' }), valueQuantity: { value: '2' } } as unknown as Resource;
    const result = await run(engine, [patient(), condition(CNMP), trial, painScore(8, '2026-04-20T10:00:00Z'), stringy], implantOrder());
    expect(criterion(result.evaluation!, 'cnmp-trial-pain-reduction-50').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Observation/stringy', 'valueQuantity.value')]);
  });

  test('coding that is not a list: the coding is left out, the Condition names no pathway', async () => {
    const odd = { ...condition(CNMP, { id: 'odd' }), code: { coding: { system: CNMP.system, code: CNMP.code } } } as unknown as Resource;
    const result = await run(engine, [patient(), odd], implantOrder());
    expect(result.evaluation?.pathway).toBe('undetermined');
    expect(result.skipped).toEqual([element('Condition/odd', 'code.coding')]);
  });

  test('a coding code that is a number: left out', async () => {
    const odd = { ...condition(CNMP, { id: 'num-code' }), code: { coding: [{ system: CNMP.system, code: 961 }] } } as unknown as Resource;
    const result = await run(engine, [patient(), odd], implantOrder());
    expect(result.skipped).toEqual([element('Condition/num-code', 'code.coding[0].code')]);
  });

  test('a status that is not a string: left out, so the trial is not shown completed', async () => {
    const odd = { ...trialProcedure({ id: 'num-status', performedDateTime: '2026-05-01T10:00:00Z' }), status: 1 } as unknown as Resource;
    const result = await run(engine, [patient(), condition(CNMP), odd], implantOrder());
    expect(criterion(result.evaluation!, 'trial-completed').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Procedure/num-status', 'status')]);
  });

  test('a CodeableConcept given as a plain string: left out and listed', async () => {
    const odd = { ...condition(CNMP, { id: 'string-code' }), code: 'M96.1' } as unknown as Resource;
    const result = await run(engine, [patient(), odd], implantOrder());
    expect(result.error).toBeUndefined();
    expect(result.evaluation?.pathway).toBe('undetermined');
    expect(result.skipped).toEqual([element('Condition/string-code', 'code')]);
  });

  test('a Period given as a plain string: left out and listed', async () => {
    const odd = { ...trialProcedure({ id: 'string-period' }), performedPeriod: '2026-05-01' } as unknown as Resource;
    const result = await run(engine, [patient(), condition(CNMP), odd], implantOrder());
    expect(criterion(result.evaluation!, 'trial-completed').status).toBe('not-documented');
    expect(result.skipped).toEqual([element('Procedure/string-period', 'performedPeriod')]);
  });

  test('a duplicate resource id: the first wins, the second is skipped', async () => {
    const result = await run(engine, [patient(), condition(CNMP, { id: 'c1' }), condition(icd('G35'), { id: 'c1' })], implantOrder());
    expect(result.evaluation?.pathway).toBe('chronic-non-malignant-pain');
    expect(result.skipped).toEqual([expect.objectContaining({ reference: 'Condition/c1', reason: expect.stringMatching(/duplicate/) })]);
  });
});

describe('junk among the draft orders', () => {
  test('nulls, numbers and strings among draftOrders are skipped; the order is still evaluated', async () => {
    const order = implantOrder();
    const result = await engine.evaluateOrder([patient(), condition(CNMP)], order, {
      draftOrders: [order, null, 7, 'MedicationRequest/x'] as unknown as Resource[],
      callDate: '2026-06-15',
    });
    expect(result.evaluation?.phase).toBe('implant');
    expect(result.skipped).toHaveLength(3);
  });

  test.each<[string, unknown]>([
    ['a string', 'ServiceRequest/x'],
    ['null', null],
    ['an object without resourceType', { id: 'x', code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '62362' }] } }],
  ])('the order itself is %s: no evaluation, no throw, skipped says why', async (_name, order) => {
    const result = await engine.evaluateOrder([patient()], order as never, { callDate: '2026-06-15' });
    expect(result.evaluation).toBeNull();
    expect(result.skipped.length).toBeGreaterThan(0);
  });

  test('no options at all: evaluates with today as the call date, no throw', async () => {
    const result = await engine.evaluateOrder([patient(), condition(CNMP)], implantOrder());
    expect(result.evaluation?.phase).toBe('implant');
  });
});

describe('loadPolicyEngine refuses broken inputs, naming the file', () => {
  const repo = path.resolve(__dirname, '..', '..');
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'policy-engine-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function copyValueSets(): string {
    const dir = path.join(tmp, 'valuesets');
    fs.cpSync(path.join(repo, 'policies', '2022T0626C', 'valuesets'), dir, { recursive: true });
    return dir;
  }

  test('a value set file that is not JSON', async () => {
    const dir = copyValueSets();
    fs.writeFileSync(path.join(dir, 'pain-score.json'), '{ "resourceType": "ValueSet", ');
    await expect(loadPolicyEngine({ valueSetDir: dir })).rejects.toThrow(/pain-score\.json/);
  });

  test('a value set file that is not a ValueSet', async () => {
    const dir = copyValueSets();
    fs.writeFileSync(path.join(dir, 'corticosteroid.json'), JSON.stringify({ resourceType: 'CodeSystem', url: 'http://x' }));
    await expect(loadPolicyEngine({ valueSetDir: dir })).rejects.toThrow(/corticosteroid\.json/);
  });

  test('a value set the CQL needs is missing: names the value set', async () => {
    const dir = copyValueSets();
    fs.rmSync(path.join(dir, 'pathway-spasticity.json'));
    await expect(loadPolicyEngine({ valueSetDir: dir })).rejects.toThrow(/pathway-spasticity/);
  });

  test('a value-set folder that does not exist', async () => {
    const dir = path.join(tmp, 'nowhere');
    await expect(loadPolicyEngine({ valueSetDir: dir })).rejects.toThrow(dir);
  });

  test('no ELM: names the library file and how to build it', async () => {
    await expect(loadPolicyEngine({ elmDir: tmp })).rejects.toThrow(/ImplantedSpinalDrugDelivery\.json.*build:cql|build:cql.*ImplantedSpinalDrugDelivery\.json/);
  });

  test('an ELM file that is not JSON', async () => {
    fs.cpSync(path.join(repo, 'build', 'elm'), tmp, { recursive: true });
    fs.writeFileSync(path.join(tmp, 'ImplantedSpinalDrugDelivery.json'), 'not json');
    await expect(loadPolicyEngine({ elmDir: tmp })).rejects.toThrow(/ImplantedSpinalDrugDelivery\.json/);
  });
});
