/**
 * The realistic-record corpus of fixtures/synthea/ (public Synthea output, see its README): each file is one
 * patient's Synthea transaction Bundle. Synthea links resources by `urn:uuid:` fullUrls; an EHR hands them out
 * with `Type/id` references, so that is how the tests see them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, FhirResource, Patient } from 'fhir/r4';
import { FIXTURES_DIR } from './fixture-table';

export const SYNTHEA_DIR = path.join(FIXTURES_DIR, 'synthea');

export interface SyntheaPatient {
  /** File name without `.json`. */
  name: string;
  patient: Patient;
  resources: FhirResource[];
}

/** Replaces every `urn:uuid:` reference that names an entry of the bundle by that entry's `Type/id`. */
function withResolvedReferences(bundle: Bundle): FhirResource[] {
  const byFullUrl = new Map((bundle.entry ?? []).flatMap((e) => (e.fullUrl && e.resource ? [[e.fullUrl, `${e.resource.resourceType}/${e.resource.id}`] as const] : [])));
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'reference' && typeof v === 'string' && byFullUrl.has(v) ? byFullUrl.get(v) : resolve(v)]),
    );
  };
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [resolve(e.resource) as FhirResource] : []));
}

export function readSyntheaCorpus(): SyntheaPatient[] {
  return readdirSync(SYNTHEA_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const resources = withResolvedReferences(JSON.parse(readFileSync(path.join(SYNTHEA_DIR, file), 'utf8')) as Bundle);
      const patient = resources.find((r): r is Patient => r.resourceType === 'Patient');
      if (!patient?.id) throw new Error(`${file}: no Patient with an id`);
      return { name: file.replace(/\.json$/, ''), patient, resources };
    });
}

/** Batch Bundles that PUT every resource under its own id (chunked: one request per `size` resources). */
export function putBatches(resources: FhirResource[], size = 200): Bundle[] {
  const batches: Bundle[] = [];
  for (let i = 0; i < resources.length; i += size) {
    batches.push({
      resourceType: 'Bundle',
      type: 'batch',
      entry: resources.slice(i, i + size).map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
    });
  }
  return batches;
}
