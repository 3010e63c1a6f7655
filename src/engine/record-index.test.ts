import path from 'node:path';
import type { Resource } from 'fhir/r4';
import { FHIRWrapper } from 'cql-exec-fhir';
import { IndexedPatient, SinglePatientSource, type FhirWrapper } from './record-index';
import { ICD10CM, loadValueSets, type PolicyCodeService } from './value-sets';

const URL = (id: string) => `http://intrathecal-cds.example.org/fhir/ValueSet/${id}`;
const LOINC = 'http://loinc.org';

let wrapper: FhirWrapper;
let codes: PolicyCodeService;
beforeAll(() => {
  wrapper = FHIRWrapper.FHIRv401() as FhirWrapper;
  codes = loadValueSets(path.resolve(__dirname, '..', '..', 'policies', '2022T0626C', 'valuesets'));
});

const observation = (id: string, system: string, code: string): Resource =>
  ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system, code }] } }) as Resource;
const conditionOf = (id: string, code: string): Resource => ({ resourceType: 'Condition', id, subject: { reference: 'Patient/p1' }, code: { coding: [{ system: ICD10CM, code }] } }) as Resource;

/** The ids of wrapped FHIR objects, which expose the resource's id as a FHIR string. */
const ids = (objects: object[]) => objects.map((o) => (o as { id: { value: string } }).id.value);

describe('IndexedPatient.findRecords', () => {
  const record = (): Resource[] => [
    { resourceType: 'Patient', id: 'p1', birthDate: '1970-01-01' } as Resource,
    observation('nrs-1', LOINC, '72514-3'),
    observation('bp-1', LOINC, '8480-6'),
    observation('nrs-2', LOINC, '38208-5'),
    observation('wrong-system', 'http://snomed.info/sct', '72514-3'),
    { resourceType: 'Observation', id: 'no-code', status: 'final' } as Resource,
    conditionOf('ms-1', 'G35.A'),
    conditionOf('htn-1', 'I10'),
  ];

  test('a coded retrieve returns only the resources whose code is in the value set, in record order', () => {
    const patient = new IndexedPatient(record(), wrapper);
    const found = patient.findRecords('Observation', { datatype: 'Observation', codeProperty: 'code', codes: codes.findValueSet(URL('pain-score'))! });
    expect(ids(found)).toEqual(['nrs-1', 'nrs-2']);
  });

  test('the index follows the ICD-10-CM hierarchy (G35.A is found by a set listing G35)', () => {
    const patient = new IndexedPatient(record(), wrapper);
    const found = patient.findRecords('Condition', { datatype: 'Condition', codeProperty: 'code', codes: codes.findValueSet(URL('pathway-spasticity'))! });
    expect(ids(found)).toEqual(['ms-1']);
  });

  test('a retrieve with a list of codes', () => {
    const patient = new IndexedPatient(record(), wrapper);
    const found = patient.findRecords('Observation', { datatype: 'Observation', codeProperty: 'code', codes: [{ system: LOINC, code: '8480-6' }] });
    expect(ids(found)).toEqual(['bp-1']);
  });

  test('a retrieve without codes returns every resource of the type', () => {
    const patient = new IndexedPatient(record(), wrapper);
    expect(ids(patient.findRecords('Observation', { datatype: 'Observation' }))).toEqual(['nrs-1', 'bp-1', 'nrs-2', 'wrong-system', 'no-code']);
    expect(ids(patient.findRecords('Condition'))).toEqual(['ms-1', 'htn-1']);
  });

  test('the type may be given as a profile URL', () => {
    const patient = new IndexedPatient(record(), wrapper);
    expect(ids(patient.findRecords('http://hl7.org/fhir/StructureDefinition/Condition'))).toEqual(['ms-1', 'htn-1']);
  });

  test('a type with no resources gives an empty list', () => {
    const patient = new IndexedPatient(record(), wrapper);
    expect(patient.findRecords('Procedure', { datatype: 'Procedure', codeProperty: 'code', codes: codes.findValueSet(URL('trial-procedure'))! })).toEqual([]);
    expect(patient.findRecords('Procedure')).toEqual([]);
  });

  test('MedicationRequests are indexed by medicationCodeableConcept', () => {
    const morphine = { resourceType: 'MedicationRequest', id: 'mr-1', status: 'active', intent: 'order', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7052' }] } } as Resource;
    const patient = new IndexedPatient([morphine], wrapper);
    const found = patient.findRecords('MedicationRequest', { datatype: 'MedicationRequest', codeProperty: 'medication', codes: codes.findValueSet(URL('pain-medication'))! });
    expect(ids(found)).toEqual(['mr-1']);
  });

  test('findRecord returns the first match', () => {
    const patient = new IndexedPatient(record(), wrapper);
    expect(ids([patient.findRecord('Observation', { datatype: 'Observation', codeProperty: 'code', codes: codes.findValueSet(URL('pain-score'))! })!])).toEqual(['nrs-1']);
  });

  test('getId is the Patient id', () => {
    expect(new IndexedPatient(record(), wrapper).getId()).toBe('p1');
  });
});

describe('SinglePatientSource', () => {
  test('serves exactly one patient', () => {
    const patient = new IndexedPatient([], wrapper);
    const source = new SinglePatientSource(patient);
    expect(source.currentPatient()).toBe(patient);
    expect(source.nextPatient()).toBeUndefined();
    expect(source.currentPatient()).toBeUndefined();
  });
});

describe('resources inside a resource', () => {
  type Node = { get(field: string): unknown; _typeInfo: { name: string } };
  const statement = (contained: unknown[]): Resource =>
    ({ resourceType: 'MedicationStatement', id: 's1', status: 'active', subject: { reference: 'Patient/p1' }, contained }) as Resource;

  test('a contained Medication is typed by its own resourceType, so its code can be read', () => {
    const medication = { resourceType: 'Medication', id: 'med', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7052' }] } };
    const [found] = new IndexedPatient([statement([medication])], wrapper).findRecords('MedicationStatement') as Node[];
    const [inner] = found.get('contained') as Node[];
    expect(inner._typeInfo.name).toBe('Medication');
    expect(((inner.get('code') as Node).get('coding') as Node[]).length).toBe(1);
  });

  test('a contained object whose resourceType is no FHIR type stays a plain Resource (no error)', () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const [found] = new IndexedPatient([statement([{ resourceType: 'NotAType', id: 'x' }])], wrapper).findRecords('MedicationStatement') as Node[];
    expect((found.get('contained') as Node[])[0]._typeInfo.name).toBe('Resource');
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
  });
});
