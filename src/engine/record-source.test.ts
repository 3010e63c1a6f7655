import path from 'node:path';
import type { Resource } from 'fhir/r4';
import { fhirModel } from './fhir-model';
import { FhirNode } from './fhir-record';
import { RecordSource, SinglePatient } from './record-source';
import { ICD10CM, loadValueSets, type PolicyCodeService } from './value-sets';

const URL = (id: string) => `http://intrathecal-cds.example.org/fhir/ValueSet/${id}`;
const LOINC = 'http://loinc.org';

let codes: PolicyCodeService;
beforeAll(() => {
  codes = loadValueSets(path.resolve(__dirname, '..', '..', 'policies', '2022T0626C', 'valuesets'));
});

const observation = (id: string, system: string, code: string): Resource =>
  ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system, code }] } }) as Resource;
const conditionOf = (id: string, code: string): Resource => ({ resourceType: 'Condition', id, subject: { reference: 'Patient/p1' }, code: { coding: [{ system: ICD10CM, code }] } }) as Resource;

/** The ids of the records found, read as the CQL reads them (`id` is a FHIR.id primitive). */
const ids = (records: unknown[]) => records.map((r) => ((r as FhirNode).get('id') as FhirNode).get('value'));
const source = (resources: Resource[]) => new RecordSource(fhirModel(), resources);

describe('RecordSource.findRecords', () => {
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
    const found = source(record()).findRecords('Observation', { datatype: '{http://hl7.org/fhir}Observation', codeProperty: 'code', codes: codes.findValueSet(URL('pain-score'))! });
    expect(ids(found)).toEqual(['nrs-1', 'nrs-2']);
  });

  test('the index follows the ICD-10-CM hierarchy (G35.A is found by a set listing G35)', () => {
    const found = source(record()).findRecords('Condition', { datatype: 'Condition', codeProperty: 'code', codes: codes.findValueSet(URL('pathway-spasticity'))! });
    expect(ids(found)).toEqual(['ms-1']);
  });

  test('a retrieve with a list of codes', () => {
    const found = source(record()).findRecords('Observation', { datatype: 'Observation', codeProperty: 'code', codes: [{ system: LOINC, code: '8480-6' }] as never });
    expect(ids(found)).toEqual(['bp-1']);
  });

  test('a retrieve without codes, or by another code element, returns every resource of the type', () => {
    const all = ['nrs-1', 'bp-1', 'nrs-2', 'wrong-system', 'no-code'];
    expect(ids(source(record()).findRecords('Observation', { datatype: 'Observation' }))).toEqual(all);
    expect(ids(source(record()).findRecords('Observation', { datatype: 'Observation', codeProperty: 'category', codes: codes.findValueSet(URL('pain-score'))! }))).toEqual(all);
    expect(ids(source(record()).findRecords('Condition'))).toEqual(['ms-1', 'htn-1']);
  });

  test('the type may be given as a profile URL', () => {
    expect(ids(source(record()).findRecords('http://hl7.org/fhir/StructureDefinition/Condition'))).toEqual(['ms-1', 'htn-1']);
  });

  test('a type with no resources, or unknown, gives an empty list', () => {
    expect(source(record()).findRecords('Procedure', { datatype: 'Procedure', codeProperty: 'code', codes: codes.findValueSet(URL('trial-procedure'))! })).toEqual([]);
    expect(source(record()).findRecords('Procedure')).toEqual([]);
    expect(source(record()).findRecords('NoSuchType')).toEqual([]);
  });

  test('MedicationRequests are indexed by medicationCodeableConcept (the primary code path `medication`)', () => {
    const morphine = { resourceType: 'MedicationRequest', id: 'mr-1', status: 'active', intent: 'order', medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7052' }] } } as Resource;
    const byReference = { resourceType: 'MedicationRequest', id: 'mr-2', status: 'active', intent: 'order', medicationReference: { reference: 'Medication/m1' } } as Resource;
    const found = source([morphine, byReference]).findRecords('MedicationRequest', { datatype: 'MedicationRequest', codeProperty: 'medication', codes: codes.findValueSet(URL('pain-medication'))! });
    expect(ids(found)).toEqual(['mr-1']);
  });

  test('findRecord returns the first match', () => {
    expect(ids([source(record()).findRecord('Observation', { datatype: 'Observation', codeProperty: 'code', codes: codes.findValueSet(URL('pain-score'))! })!])).toEqual(['nrs-1']);
  });

  test('the patient object is the Patient resource', () => {
    const patient = source(record());
    expect(patient.getId()).toBe('p1');
    expect(String((patient.get('birthDate') as FhirNode).get('value'))).toBe('1970-01-01');
    expect(source([]).getId()).toBe('unknown-patient');
  });

  test('record resources are told apart by Type/id, the identity cql-execution compares', () => {
    const [a, b] = source([conditionOf('c1', 'I10'), conditionOf('c2', 'I10')]).findRecords('Condition');
    expect(Object.keys(a)).toEqual(['key']);
    expect([(a as FhirNode).key, (b as FhirNode).key]).toEqual(['Condition/c1', 'Condition/c2']);
  });
});

describe('SinglePatient', () => {
  test('serves exactly one patient', () => {
    const patient = source([]);
    const provider = new SinglePatient(patient);
    expect(provider.currentPatient()).toBe(patient);
    expect(provider.nextPatient()).toBeUndefined();
    expect(provider.currentPatient()).toBeUndefined();
  });
});

describe('resources inside a resource', () => {
  const statement = (contained: unknown[]): Resource =>
    ({ resourceType: 'MedicationStatement', id: 's1', status: 'active', subject: { reference: 'Patient/p1' }, contained }) as Resource;

  test('a contained Medication is typed by its own resourceType, so `is FHIR.Medication` holds and its code can be read', () => {
    const medication = { resourceType: 'Medication', id: 'med', code: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '7052' }] } };
    const [found] = source([statement([medication])]).findRecords('MedicationStatement') as FhirNode[];
    const [inner] = found.get('contained') as FhirNode[];
    expect(inner.fhirType.name).toBe('Medication');
    expect(inner._is({ type: 'NamedTypeSpecifier', name: '{http://hl7.org/fhir}Medication' })).toBe(true);
    expect(((inner.get('code') as FhirNode).get('coding') as FhirNode[]).length).toBe(1);
  });

  test('a contained object whose resourceType is no FHIR type stays a plain Resource', () => {
    const [found] = source([statement([{ resourceType: 'NotAType', id: 'x' }])]).findRecords('MedicationStatement') as FhirNode[];
    expect((found.get('contained') as FhirNode[])[0].fhirType.name).toBe('Resource');
  });
});
