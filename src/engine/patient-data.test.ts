import { findProblem, isValidFhirDateTime, usableResources } from './patient-data';

describe('isValidFhirDateTime (FHIR R4 date / dateTime / instant)', () => {
  test.each(['2026', '2026-06', '2026-06-15', '2024-02-29', '2026-06-15T10:00:00Z', '2026-06-15T10:00:00.123+02:00', '2026-12-31T23:59:59-05:00'])(
    '%s is valid',
    (value) => {
      expect(isValidFhirDateTime(value)).toBe(true);
    },
  );

  test.each([
    ['Feb 30', '2026-02-30'],
    ['Feb 29 in a common year', '2026-02-29'],
    ['April 31', '2026-04-31'],
    ['month 13', '2026-13-01'],
    ['month 13 day 45', '2026-13-45'],
    ['day 0', '2026-06-00'],
    ['a word', 'yesterday'],
    ['a European date', '15/06/2026'],
    ['a time without a zone', '2026-06-15T10:00:00'],
    ['hour 25', '2026-06-15T25:00:00Z'],
    ['a two-digit year', '26-06-15'],
    ['an empty string', ''],
    ['surrounding blanks', ' 2026-06-15 '],
  ])('%s (%s) is invalid', (_name, value) => {
    expect(isValidFhirDateTime(value)).toBe(false);
  });

  test.each([20260615, null, undefined, {}, ['2026-06-15']])('a non-string (%p) is invalid', (value) => {
    expect(isValidFhirDateTime(value)).toBe(false);
  });
});

describe('findProblem names the path of the first structural problem', () => {
  test('a well-formed resource has none', () => {
    const observation = {
      resourceType: 'Observation',
      id: 'o1',
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }], text: 'NRS' },
      effectiveDateTime: '2026-05-02T10:00:00Z',
      valueQuantity: { value: 3, unit: '{score}' },
      partOf: [{ reference: 'Procedure/p1' }],
    };
    expect(findProblem(observation, '')).toBeNull();
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a bad date deep inside', { performedPeriod: { start: '2026-05-01', end: '2026-02-30' } }, /^performedPeriod\.end: /],
    ['a bad birthDate', { birthDate: 'yesterday' }, /^birthDate: /],
    ['a date that is a number', { authoredOn: 20260615 }, /^authoredOn: /],
    ['coding not a list', { code: { coding: { code: 'x' } } }, /^code\.coding: .*list/],
    ['a coding that is not an object', { code: { coding: ['x'] } }, /^code\.coding\[0\]: /],
    ['a coding code that is a number', { code: { coding: [{ code: 5 }] } }, /^code\.coding\[0\]\.code: /],
    ['a concept text that is not a string', { code: { coding: [], text: 5 } }, /^code\.text: /],
    ['a status that is not a string', { status: ['final'] }, /^status: /],
    ['a reference that is not a string', { partOf: [{ reference: 5 }] }, /^partOf\[0\]\.reference: /],
    ['valueQuantity.value as a string', { valueQuantity: { value: '8' } }, /^valueQuantity\.value: /],
    ['valueInteger with a fraction', { valueInteger: 1.5 }, /^valueInteger: /],
    ['a null', { note: null }, /^note: /],
  ])('%s', (_name, resource, expected) => {
    expect(findProblem(resource, '')).toMatch(expected);
  });

  test('nesting beyond the depth limit is a problem, not a stack overflow', () => {
    let deep: Record<string, unknown> = { url: 'leaf' };
    for (let i = 0; i < 200; i++) deep = { extension: [deep] };
    expect(findProblem(deep, '')).toMatch(/nested too deeply/);
  });
});

describe('usableResources', () => {
  const patient = { resourceType: 'Patient', id: 'p1', birthDate: '1970-03-12' };
  const condition = { resourceType: 'Condition', id: 'c1', code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M96.1' }] } };

  test('reads a Bundle and a plain list alike', () => {
    expect(usableResources({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: patient }, { resource: condition }] })).toEqual({
      resources: [patient, condition],
      skipped: [],
    });
    expect(usableResources([patient, condition])).toEqual({ resources: [patient, condition], skipped: [] });
  });

  test('a Bundle without entries is an empty record', () => {
    expect(usableResources({ resourceType: 'Bundle', type: 'searchset' })).toEqual({ resources: [], skipped: [] });
  });

  test.each<[string, unknown]>([
    ['a string', 'Patient/p1'],
    ['a number', 7],
    ['an object without resourceType', { entry: [] }],
    ['a single resource', patient],
  ])('%s is not patient data: skipped as patientData', (_name, data) => {
    expect(usableResources(data)).toEqual({ resources: [], skipped: [{ reference: 'patientData', reason: expect.stringMatching(/Bundle/) }] });
  });

  test('Bundle.entry that is not a list', () => {
    expect(usableResources({ resourceType: 'Bundle', entry: { resource: patient } })).toEqual({
      resources: [],
      skipped: [{ reference: 'Bundle', reason: expect.stringMatching(/entry/) }],
    });
  });

  test('keeps the first of two resources with the same Type/id and says why the second was dropped', () => {
    const second = { ...condition, code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'G35' }] } };
    const { resources, skipped } = usableResources([patient, condition, second]);
    expect(resources).toEqual([patient, condition]);
    expect(skipped).toEqual([{ reference: 'Condition/c1', reason: expect.stringMatching(/duplicate/) }]);
  });

  test('the same id under two resource types is not a duplicate', () => {
    const procedure = { resourceType: 'Procedure', id: 'c1', status: 'completed' };
    expect(usableResources([condition, procedure]).resources).toEqual([condition, procedure]);
  });

  test('a duplicate is detected against usable resources only: a broken first copy does not hide a good second one', () => {
    const broken = { ...condition, recordedDate: '2026-02-30' };
    const { resources, skipped } = usableResources([broken, condition]);
    expect(resources).toEqual([condition]);
    expect(skipped).toEqual([{ reference: 'Condition/c1', reason: expect.stringMatching(/recordedDate/) }]);
  });

  test.each<[string, unknown, string, RegExp]>([
    ['null', null, 'entry[0]', /not a FHIR resource/],
    ['a string', 'Condition/c9', 'entry[0]', /not a FHIR resource/],
    ['an array', [condition], 'entry[0]', /not a FHIR resource/],
    ['no resourceType', { id: 'x9' }, 'entry/x9', /resourceType/],
    ['a lowercase resourceType', { resourceType: 'condition', id: 'x9' }, 'entry/x9', /resourceType/],
    ['no id', { resourceType: 'Condition' }, 'Condition[0]', /id/],
    ['an id with forbidden characters', { resourceType: 'Condition', id: 'a b/c' }, 'Condition[0]', /id/],
    ['a nested Bundle', { resourceType: 'Bundle', id: 'b1' }, 'Bundle/b1', /not patient data/],
    ['an OperationOutcome', { resourceType: 'OperationOutcome', id: 'oo1' }, 'OperationOutcome/oo1', /not patient data/],
    ['Feb 30', { resourceType: 'Patient', id: 'p9', birthDate: '1970-02-30' }, 'Patient/p9', /birthDate/],
  ])('skips %s with its reference and reason', (_name, item, reference, reason) => {
    const { resources, skipped } = usableResources([item]);
    expect(resources).toEqual([]);
    expect(skipped).toEqual([{ reference, reason: expect.stringMatching(reason) }]);
  });

  test('Bundle entries without a resource are skipped by position', () => {
    const { resources, skipped } = usableResources({ resourceType: 'Bundle', entry: [{ fullUrl: 'urn:uuid:1' }, { resource: patient }] });
    expect(resources).toEqual([patient]);
    expect(skipped).toEqual([{ reference: 'entry[0]', reason: expect.any(String) }]);
  });

  test('a skipped reason never carries the resource content', () => {
    const { skipped } = usableResources([{ resourceType: 'Patient', id: 'p9', name: [{ family: 'Testpatient' }], birthDate: 'Testpatient' }]);
    expect(skipped).toHaveLength(1);
    expect(JSON.stringify(skipped)).not.toContain('Testpatient');
  });
});
