import { fhirModel } from './fhir-model';
import { countLeftOut, isValidFhirDateTime, readResources } from './record-intake';

const model = fhirModel();
const read = (data: unknown) => readResources(data, model);

const patient = { resourceType: 'Patient', id: 'p1', birthDate: '1970-03-12' };
const condition = { resourceType: 'Condition', id: 'c1', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M96.1' }] } };

describe('isValidFhirDateTime', () => {
  test.each(['2026', '2026-06', '2026-06-15', '2026-06-15T10:30:00Z', '2026-06-15T10:30:00.123+02:00', '2024-02-29'])('%s is valid', (v) => {
    expect(isValidFhirDateTime(v)).toBe(true);
  });
  test.each(['2026-13-01', '2026-02-30', '2023-02-29', '15/06/2026', 'yesterday', '', '2026-06-15T25:00:00Z', '2026-06-15T10:30:60Z', 20260615, null])('%s is not', (v) => {
    expect(isValidFhirDateTime(v)).toBe(false);
  });
});

// Valid R4 shapes that a key-name check got wrong (issue 9): every one is read whole, nothing left out.
describe('valid FHIR R4 is read whole, whatever its shape', () => {
  const shapes: Array<[string, Record<string, unknown>]> = [
    ['AllergyIntolerance.category, a list of codes', { resourceType: 'AllergyIntolerance', id: 'a1', category: ['medication'], _category: [{ extension: [{ url: 'http://x', valueString: 'y' }] }], patient: { reference: 'Patient/p1' } }],
    ['MedicationStatement.category, one CodeableConcept', { resourceType: 'MedicationStatement', id: 'ms1', status: 'active', category: { coding: [{ code: 'outpatient' }] }, medicationCodeableConcept: { text: 'gabapentin' }, subject: { reference: 'Patient/p1' } }],
    ['Procedure.category, one CodeableConcept', { resourceType: 'Procedure', id: 'pr1', status: 'completed', category: { text: 'surgical' }, subject: { reference: 'Patient/p1' } }],
    ['a dosage timing whose repeat.period is a decimal', {
      resourceType: 'MedicationRequest', id: 'mr1', status: 'active', intent: 'order', subject: { reference: 'Patient/p1' },
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7052' }] },
      dosageInstruction: [{ sequence: 1, timing: { repeat: { frequency: 1, period: 4.0, periodUnit: 'h', boundsPeriod: { start: '2026-01-01' } } }, asNeededBoolean: false,
        doseAndRate: [{ doseQuantity: { value: 0.5, unit: 'mg' } }] }],
      dispenseRequest: { validityPeriod: { start: '2026-01-01', end: '2026-07-01' }, numberOfRepeatsAllowed: 0, quantity: { value: 30 } },
    }],
    ['ServiceRequest.occurrenceTiming', { resourceType: 'ServiceRequest', id: 'sr1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, occurrenceTiming: { event: ['2026-07-01T09:00:00Z'], repeat: { count: 1, period: 1.5, periodUnit: 'd' } } }],
    ['Observation.valueSampledData', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'ecg' }, valueSampledData: { origin: { value: 0 }, period: 0.25, dimensions: 1, data: '1 2 3' } }],
    ['a medication by reference to a contained Medication', {
      resourceType: 'MedicationRequest', id: 'mr2', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, medicationReference: { reference: '#m1' },
      contained: [{ resourceType: 'Medication', id: 'm1', code: { text: 'morphine' }, ingredient: [{ itemCodeableConcept: { text: 'morphine' }, strength: { numerator: { value: 1 }, denominator: { value: 1 } } }] }],
    }],
    ['a primitive with only an extension', { resourceType: 'Patient', id: 'p2', _birthDate: { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] } }],
    ['elements this model does not define (kept, never read)', { resourceType: 'Condition', id: 'c2', somethingNew: { any: 'shape' }, code: { text: 'x' } }],
  ];

  test.each(shapes)('%s', (_name, resource) => {
    const result = read([resource]);
    expect(result.skipped).toEqual([]);
    expect(result.dropped).toEqual([]);
    expect(result.resources[0]).toBe(resource);
  });
});

describe('elements that cannot be read are left out of the resource, the rest is kept', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['a date that is not a calendar day', { birthDate: '1970-02-30' }, 'birthDate'],
    ['a date given as a number', { birthDate: 19700312 }, 'birthDate'],
    ['a CodeableConcept given as a string', { maritalStatus: 'M' }, 'maritalStatus'],
    ['a list given as one object', { name: { family: 'Testpatient' } }, 'name'],
    ['a boolean given as a string', { active: 'true' }, 'active'],
    ['a null', { gender: null }, 'gender'],
    ['one bad item of a list', { identifier: [{ value: 'a' }, 'b', { value: 'c' }] }, 'identifier[1]'],
    ['a nested bad value', { name: [{ family: 7 }] }, 'name[0].family'],
    ['a bad extension of a primitive', { _birthDate: 'x' }, '_birthDate'],
  ])('%s', (_name, fields, path) => {
    const input = { ...patient, ...fields };
    const before = JSON.stringify(input);
    const { resources, dropped, skipped } = read([input]);
    expect(skipped).toEqual([]);
    expect(dropped).toEqual([{ reference: 'Patient/p1', resourceType: 'Patient', path, reason: expect.any(String) }]);
    expect(resources).toHaveLength(1);
    expect(resources[0]).not.toBe(input);
    expect(JSON.stringify(input)).toBe(before); // the input is never changed
    expect((resources[0] as { id?: string }).id).toBe('p1');
  });

  test('the readable items of a list are kept in order', () => {
    const { resources } = read([{ ...patient, identifier: [{ value: 'a' }, 'b', { value: 'c' }] }]);
    expect((resources[0] as { identifier?: unknown }).identifier).toEqual([{ value: 'a' }, { value: 'c' }]);
  });

  test('a contained resource is checked as its own type', () => {
    const order = { resourceType: 'MedicationRequest', id: 'mr3', status: 'draft', intent: 'order', contained: [{ resourceType: 'Medication', id: 'm1', code: 'morphine' }] };
    expect(read([order]).dropped).toEqual([expect.objectContaining({ path: 'contained[0].code' })]);
  });

  test('nesting beyond the depth limit is left out, not a stack overflow', () => {
    let deep: Record<string, unknown> = { url: 'http://leaf', valueString: 'x' };
    for (let i = 0; i < 200; i++) deep = { url: 'http://x', extension: [deep] };
    const { dropped, resources } = read([{ ...patient, extension: [deep] }]);
    expect(resources).toHaveLength(1);
    expect(dropped).toEqual([expect.objectContaining({ reason: 'nested too deeply' })]);
  });
});

describe('whole resources', () => {
  test('reads a Bundle and a plain list alike', () => {
    expect(read({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: patient }, { resource: condition }] })).toEqual({ resources: [patient, condition], skipped: [], dropped: [] });
    expect(read([patient, condition])).toEqual({ resources: [patient, condition], skipped: [], dropped: [] });
  });

  test('a Bundle without entries is an empty record', () => {
    expect(read({ resourceType: 'Bundle', type: 'searchset' })).toEqual({ resources: [], skipped: [], dropped: [] });
  });

  test.each<[string, unknown]>([
    ['a string', 'Patient/p1'],
    ['a number', 7],
    ['an object without resourceType', { entry: [] }],
    ['a single resource', patient],
  ])('%s is not patient data', (_name, data) => {
    expect(read(data).skipped).toEqual([expect.objectContaining({ reference: 'patientData', reason: expect.stringMatching(/Bundle/) })]);
  });

  test('Bundle.entry that is not a list', () => {
    expect(read({ resourceType: 'Bundle', entry: { resource: patient } }).skipped).toEqual([expect.objectContaining({ reference: 'Bundle', reason: expect.stringMatching(/entry/) })]);
  });

  test('keeps the first of two resources with the same Type/id; the same id under two types is no duplicate', () => {
    const second = { ...condition, code: { text: 'other' } };
    const procedure = { resourceType: 'Procedure', id: 'c1', status: 'completed' };
    const { resources, skipped } = read([patient, condition, second, procedure]);
    expect(resources).toEqual([patient, condition, procedure]);
    expect(skipped).toEqual([expect.objectContaining({ reference: 'Condition/c1', reason: expect.stringMatching(/duplicate/) })]);
  });

  test.each<[string, unknown, string, RegExp]>([
    ['null', null, 'entry[0]', /not a FHIR resource/],
    ['an array', [condition], 'entry[0]', /not a FHIR resource/],
    ['no resourceType', { id: 'x9' }, 'entry[0]', /resourceType/],
    ['a resourceType R4 does not define', { resourceType: 'condition', id: 'x9' }, 'entry[0]', /resourceType/],
    ['no id', { resourceType: 'Condition' }, 'Condition[0]', /id/],
    ['an id with forbidden characters', { resourceType: 'Condition', id: 'a b/c' }, 'Condition[0]', /id/],
    ['a nested Bundle', { resourceType: 'Bundle', id: 'b1' }, 'Bundle/b1', /not patient data/],
    ['an OperationOutcome', { resourceType: 'OperationOutcome', id: 'oo1' }, 'OperationOutcome/oo1', /not patient data/],
  ])('skips %s with its reference and reason', (_name, item, reference, reason) => {
    const { resources, skipped } = read([item]);
    expect(resources).toEqual([]);
    expect(skipped).toEqual([expect.objectContaining({ reference, reason: expect.stringMatching(reason) })]);
  });

  test('reports never carry the resource content', () => {
    const { dropped } = read([{ resourceType: 'Patient', id: 'p9', name: [{ family: 'Testpatient' }], birthDate: 'Testpatient' }]);
    expect(dropped).toHaveLength(1);
    expect(JSON.stringify(dropped)).not.toContain('Testpatient');
  });

  test('counts by resource type and reason, without ids', () => {
    const { skipped, dropped } = read([{ ...patient, birthDate: 'x' }, { resourceType: 'Condition' }, { ...condition, code: 'x' }, { ...condition, id: 'c2', code: 'y' }]);
    expect(countLeftOut([...skipped, ...dropped])).toEqual({
      Patient: { 'element: invalid date or time': 1 },
      Condition: { 'resource: no valid id, so it cannot be cited as evidence': 1, 'element: wrong JSON type': 2 },
    });
  });
});
