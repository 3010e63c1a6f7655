import { parseSearchRequest } from '@medplum/core';
import { MemoryRepository } from '@medplum/fhir-router';
import type { Bundle, Observation, Resource } from '@medplum/fhirtypes';
import { loadFhirDefinitions } from './definitions';
import { IndexedRepository } from './indexed-repository';

const LOINC = 'http://loinc.org';
const CODES = ['8867-4', '72514-3', '44261-6', '29463-7'];

/** A small deterministic population: observations for several patients, some without or with another subject. */
function population(): Resource[] {
  const resources: Resource[] = [];
  for (let p = 0; p < 8; p++) {
    resources.push({ resourceType: 'Patient', id: `p${p}`, identifier: [{ system: 'urn:test', value: `mrn-${p}` }] });
    for (let o = 0; o < 12; o++) {
      const id = `o${p}-${o}`;
      const code = CODES[(p + o) % CODES.length];
      const day = String(1 + ((o * 7 + p) % 28)).padStart(2, '0');
      resources.push({
        resourceType: 'Observation',
        id,
        status: o % 5 === 0 ? 'amended' : 'final',
        code: { coding: [{ system: LOINC, code }] },
        // Every third one names its patient in `performer` too; every seventh belongs to a Group instead.
        subject: { reference: o % 7 === 6 ? `Group/g${p}` : `Patient/p${p}` },
        ...(o % 3 === 0 ? { performer: [{ reference: `Patient/p${(p + 1) % 8}` }] } : {}),
        effectiveDateTime: `2024-03-${day}`,
      });
    }
    resources.push({ resourceType: 'Observation', id: `loose-${p}`, status: 'final', code: { coding: [{ system: LOINC, code: CODES[0] }] } });
    resources.push({
      resourceType: 'Condition',
      id: `c${p}`,
      subject: { reference: `Patient/p${p}` },
      code: { text: 'pain' },
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: p % 2 ? 'active' : 'resolved' }] },
    });
  }
  return resources;
}

const QUERIES = [
  'Observation?patient=Patient/p3',
  'Observation?subject=Patient/p3',
  `Observation?patient=Patient/p3&code=${LOINC}|8867-4`,
  'Observation?patient=Patient/p3,Patient/p7&code=72514-3,44261-6',
  'Observation?patient=Patient/p5&performer=Patient/p6',
  'Observation?performer=Patient/p6',
  'Observation?subject=Group/g2',
  'Observation?patient=Patient/nobody',
  'Observation?patient=Patient/p4&status=final&date=ge2024-03-10',
  'Observation?patient=Patient/p4&_sort=-date&_count=4&_offset=2',
  'Observation?patient=Patient/p4&_sort=status,date&_count=5',
  'Observation?patient=Patient/p6&_count=3&_offset=3',
  'Observation?patient:missing=true',
  'Observation?patient=Patient/p1&_count=0',
  'Observation?code=8867-4&_count=50',
  'Condition?patient=Patient/p5&clinical-status=active',
  'Condition?subject=Patient/p2',
];

async function load(repo: IndexedRepository | MemoryRepository, resources: Resource[]): Promise<void> {
  for (const r of resources) await repo.createResource(r);
  // Writes that move resources between patients, delete and re-create them: the index must follow.
  const moved = await repo.readResource<Observation>('Observation', 'o3-1');
  await repo.updateResource<Observation>({ ...moved, subject: { reference: 'Patient/p7' } });
  await repo.deleteResource('Observation', 'o3-2');
  await repo.deleteResource('Observation', 'o4-4');
  await repo.createResource({ resourceType: 'Observation', id: 'o4-4', status: 'final', code: { coding: [{ system: LOINC, code: '8867-4' }] }, subject: { reference: 'Patient/p4' }, effectiveDateTime: '2024-03-20' });
  await repo.patchResource('Observation', 'o5-0', [{ op: 'replace', path: '/subject/reference', value: 'Patient/p3' }]);
}

function shape(bundle: Bundle): { total?: number; ids: string[] } {
  return { total: bundle.total, ids: (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`) };
}

describe('IndexedRepository', () => {
  const data = population();
  const indexed = new IndexedRepository(true);
  const scanning = new IndexedRepository(false);
  const expected = new Map<string, ReturnType<typeof shape>>();

  beforeAll(async () => {
    loadFhirDefinitions();
    // Medplum's own repository answers first, while every search parameter still has R4's union expression:
    // the reference answers come from the router's behaviour before this server's changes.
    const medplum = new MemoryRepository();
    await load(medplum, data);
    for (const query of QUERIES) expected.set(query, shape(await medplum.search(parseSearchRequest(query))));
    for (const repo of [indexed, scanning]) await load(repo, data);
  });

  it.each(QUERIES)('answers %s as Medplum MemoryRepository does, indexed and unindexed', async (query) => {
    expect(shape(await indexed.search(parseSearchRequest(query)))).toEqual(expected.get(query));
    expect(shape(await scanning.search(parseSearchRequest(query)))).toEqual(expected.get(query));
  });

  it('finds something for the patient queries, so the comparisons above are not of empty results', async () => {
    expect((await indexed.search(parseSearchRequest(`Observation?patient=Patient/p3&code=${LOINC}|8867-4`))).total).toBeGreaterThan(0);
    expect((await indexed.search(parseSearchRequest('Observation?patient=Patient/p7'))).entry?.map((e) => e.resource?.id)).toContain('o3-1');
    expect((await indexed.search(parseSearchRequest('Observation?patient=Patient/p3'))).entry?.map((e) => e.resource?.id)).not.toContain('o3-1');
  });

  it('undoes every write of a failed transaction, index included', async () => {
    const repo = new IndexedRepository();
    await repo.createResource({ resourceType: 'Observation', id: 'keep', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/a' } });
    await expect(
      repo.transaction(async () => {
        await repo.createResource({ resourceType: 'Observation', id: 'new', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/a' } });
        const keep = await repo.readResource<Observation>('Observation', 'keep');
        await repo.updateResource<Observation>({ ...keep, subject: { reference: 'Patient/b' } });
        await repo.deleteResource('Observation', 'keep');
        throw new Error('entry failed');
      }, () => false),
    ).rejects.toThrow('entry failed');
    const byA = await repo.search(parseSearchRequest('Observation?patient=Patient/a'));
    expect(shape(byA).ids).toEqual(['Observation/keep']);
    expect((await repo.search(parseSearchRequest('Observation?patient=Patient/b'))).total).toBe(0);
    expect((await repo.readHistory('Observation', 'keep')).entry).toHaveLength(1);
    await expect(repo.readResource('Observation', 'new')).rejects.toThrow();
  });

  it('keeps what a transaction wrote when it succeeds', async () => {
    const repo = new IndexedRepository();
    await repo.transaction(() => repo.createResource({ resourceType: 'Patient', id: 'kept' }), () => false);
    expect((await repo.readResource('Patient', 'kept')).id).toBe('kept');
  });
});
