import type { DataRequirement } from '../packs/data-requirements';
import { derivePrefetch, PREFETCH_PAGE_SIZE } from './derived-prefetch';

const LOINC = 'http://loinc.org';
const requirements: DataRequirement[] = [
  { type: 'Observation', codes: [{ system: LOINC, code: '1-1' }, { system: LOINC, code: '2-2' }], valueSets: ['urn:vs:scores'] },
  { type: 'Condition', valueSets: [] },
  { type: 'Patient', valueSets: [] },
  { type: 'ServiceRequest', valueSets: [] },
];
const derive = (overrides: Parameters<typeof derivePrefetch>[1]) => derivePrefetch(requirements, overrides, 'svc.json');

describe('derivePrefetch', () => {
  it('reads the patient, searches each retrieved type by patient, and narrows coded retrieves to their codes', () => {
    expect(derive({})).toEqual({
      patient: 'Patient/{{context.patientId}}',
      conditions: `Condition?patient={{context.patientId}}&_count=${PREFETCH_PAGE_SIZE}`,
      observations: `Observation?patient={{context.patientId}}&code=${LOINC}|1-1,${LOINC}|2-2&_count=${PREFETCH_PAGE_SIZE}`,
      serviceRequests: `ServiceRequest?patient={{context.patientId}}&_count=${PREFETCH_PAGE_SIZE}`,
    });
  });

  it('takes an override of a type under its own key, keeps widenings, and leaves out excluded types', () => {
    const prefetch = derive({
      prefetch: { problems: 'Condition?patient={{context.patientId}}&_count=50', coverage: 'Coverage?patient={{context.patientId}}&status=active&_count=10' },
      prefetchExclude: { ServiceRequest: 'orders arrive in the context' },
    });
    expect(Object.keys(prefetch)).toEqual(['patient', 'problems', 'observations', 'coverage']);
    expect(prefetch.problems).toBe('Condition?patient={{context.patientId}}&_count=50');
  });

  it('accepts an override that widens a coded retrieve', () => {
    const wider = `Observation?patient={{context.patientId}}&code=${LOINC}|1-1,${LOINC}|2-2,${LOINC}|3-3&_count=100`;
    expect(derive({ prefetch: { observations: wider } }).observations).toBe(wider);
  });

  it.each<[string, Parameters<typeof derivePrefetch>[1], RegExp]>([
    ['an override that misses a code', { prefetch: { obs: `Observation?patient={{context.patientId}}&code=${LOINC}|1-1&_count=9` } }, /svc\.json: prefetch "obs" would miss .* Observation: http:\/\/loinc\.org\|2-2/],
    ['a code filter on a retrieve that reads every code', { prefetch: { c: `Condition?patient={{context.patientId}}&code=${LOINC}|1-1&_count=9` } }, /would miss .* Condition: \(every code/],
    ['another filter on a retrieved type', { prefetch: { c: 'Condition?patient={{context.patientId}}&clinical-status=active&_count=9' } }, /would miss .* \(filter clinical-status\)/],
    ['a search without _count', { prefetch: { coverage: 'Coverage?patient={{context.patientId}}' } }, /prefetch "coverage": a search needs _count/],
    ['excluding a coded retrieve', { prefetchExclude: { Observation: 'not needed' } }, /prefetchExclude "Observation" would miss the codes .*urn:vs:scores/],
    ['excluding a type the CQL does not read', { prefetchExclude: { Encounter: 'not needed' } }, /the CQL retrieves no Encounter/],
    ['a template that is not a read or a search', { prefetch: { x: 'metadata' } }, /prefetch "x": "metadata" is not a FHIR read/],
  ])('stops startup on %s', (_name, overrides, message) => {
    expect(() => derive(overrides)).toThrow(message);
  });

  it('stops startup on a retrieved type that cannot be searched by patient, until the service says how to get it', () => {
    const withMedication = [...requirements, { type: 'Medication', valueSets: [] }];
    expect(() => derivePrefetch(withMedication, {}, 'svc.json')).toThrow(/retrieves Medication, which cannot be searched by patient/);
    expect(derivePrefetch(withMedication, { prefetchExclude: { Medication: 'read through the orders that reference it' } }, 'svc.json')).not.toHaveProperty('medications');
  });
});
