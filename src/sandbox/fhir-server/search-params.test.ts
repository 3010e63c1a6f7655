import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, normalizeSearch, repositoryQuery } from './search-params';
import { FhirHttpError } from './outcome';

function rejection(resourceType: string, query: [string, string][]): FhirHttpError {
  try {
    normalizeSearch(resourceType, query);
  } catch (err) {
    if (err instanceof FhirHttpError) return err;
    throw err;
  }
  throw new Error('expected the search to be rejected');
}

describe('normalizeSearch', () => {
  it('prefixes a bare id with the single target type of the parameter', () => {
    expect(normalizeSearch('Condition', [['patient', 'p1']]).params).toEqual([['patient', 'Patient/p1']]);
  });

  it('expands a bare id to every target type when the parameter allows several', () => {
    const [[, value]] = normalizeSearch('Observation', [['subject', 'p1']]).params;
    expect(value.split(',').sort()).toEqual(['Device/p1', 'Group/p1', 'Location/p1', 'Patient/p1']);
  });

  it('uses a type modifier as the reference type and leaves typed references alone', () => {
    expect(normalizeSearch('Observation', [['subject:Patient', 'p1']]).params).toEqual([['subject', 'Patient/p1']]);
    expect(normalizeSearch('Observation', [['patient', 'Patient/p1,p2']]).params).toEqual([['patient', 'Patient/p1,Patient/p2']]);
  });

  it('drops empty values and formatting parameters, and reads _count and _offset', () => {
    const search = normalizeSearch('Patient', [
      ['name', ''],
      ['_format', 'json'],
      ['_count', '5'],
      ['_offset', '10'],
    ]);
    expect(search).toEqual({ params: [], count: 5, offset: 10 });
    expect(normalizeSearch('Patient', []).count).toBe(DEFAULT_PAGE_SIZE);
    expect(normalizeSearch('Patient', [['_count', '999999']]).count).toBe(MAX_PAGE_SIZE);
  });

  it('rejects what the in-memory matcher would silently answer with nothing', () => {
    expect(rejection('Observation', [['colour', 'blue']]).outcome.issue[0].expression).toEqual(['colour']);
    expect(rejection('Observation', [['value-quantity', '5']]).outcome.issue[0].code).toBe('not-supported');
    expect(rejection('Observation', [['code:text', 'pain']]).outcome.issue[0].diagnostics).toContain(':text');
    expect(rejection('Observation', [['subject:identifier', 'x|1']]).status).toBe(400);
    expect(rejection('Observation', [['patient.name', 'x']]).outcome.issue[0].diagnostics).toContain('Chained');
    expect(rejection('Observation', [['_revinclude', 'Provenance:target']]).outcome.issue[0].expression).toEqual(['_revinclude']);
    expect(rejection('Observation', [['_sort', 'value-quantity']]).outcome.issue[0].expression).toEqual(['_sort']);
  });

  it('checks date values and prefixes', () => {
    expect(normalizeSearch('Observation', [['date', 'ge2024-01-01T10:00:00Z']]).params).toEqual([['date', 'ge2024-01-01T10:00:00Z']]);
    expect(rejection('Observation', [['date', 'yesterday']]).outcome.issue[0].expression).toEqual(['date']);
    expect(rejection('Observation', [['date', '2023,2024']]).outcome.issue[0].code).toBe('not-supported');
    expect(rejection('Observation', [['date:missing', 'maybe']]).status).toBe(400);
  });

  it('rejects a _count that is not a non-negative integer', () => {
    for (const bad of ['abc', '-1', '2.5']) {
      expect(rejection('Patient', [['_count', bad]]).outcome.issue[0].diagnostics).toBe(`_count must be a non-negative integer, got '${bad}'`);
    }
  });
});

describe('repositoryQuery', () => {
  it('hands _sort keys to Medplum last-first and adds the page window', () => {
    const search = normalizeSearch('Observation', [
      ['status', 'final'],
      ['_sort', 'status,-date'],
      ['_count', '3'],
    ]);
    expect(repositoryQuery(search)).toEqual({ status: ['final'], _sort: ['-date,status'], _count: ['3'], _offset: ['0'] });
  });
});
