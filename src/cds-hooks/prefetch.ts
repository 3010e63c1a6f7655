/**
 * Builds the patient's record for the evaluator from the prefetch the EHR sent, fetching every
 * missing key from the EHR's FHIR server (CDS Hooks 2.0 "Prefetch"):
 * - a key sent as `null` means the EHR has no data for it: nothing to fetch;
 * - a key sent as an OperationOutcome means the EHR could not prefetch it: fetch it;
 * - a key not sent: fetch it.
 * Data that is needed and cannot be had is a 412.
 */
import type { FhirResource, Resource } from 'fhir/r4';
import { prefetchUnavailable } from './errors';
import { FhirFetchError, type FhirFetcher } from '../fhir-client/fhir-fetch';
import type { HookMetrics } from '../ops/metrics';
import type { LoadedService } from './service-definitions';
import type { HookRequest, PatientRecord } from './types';

export interface GatheredRecord {
  record: PatientRecord;
  /** Prefetch keys read from the FHIR server in this call. */
  fetchedKeys: string[];
  /** Keys whose search had more pages than the page limit allowed. */
  truncatedKeys: string[];
}

function isUsable(resource: Resource | null | undefined): resource is Resource {
  return resource !== null && resource !== undefined && resource.resourceType !== 'OperationOutcome';
}

/** A prefetched value is a search Bundle or a single resource; either way, its resources. */
function resourcesOf(resource: Resource): FhirResource[] {
  if (resource.resourceType !== 'Bundle') return [resource as FhirResource];
  const entries = (resource as { entry?: unknown }).entry;
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry) => {
    const inner = (entry as { resource?: unknown; search?: { mode?: string } } | null) ?? {};
    const r = inner.resource as FhirResource | undefined;
    if (inner.search?.mode === 'outcome' || typeof r?.resourceType !== 'string' || r.resourceType === 'OperationOutcome') return [];
    return [r];
  });
}

/** The same resource can arrive under two keys; the evaluator should see it once. */
function dedupe(resources: FhirResource[]): FhirResource[] {
  const seen = new Set<string>();
  return resources.filter((r) => {
    // Only a string id identifies a resource (and only a string can be safely put in a key).
    if (typeof r.id !== 'string' || r.id === '') return true;
    const key = `${r.resourceType}/${r.id}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** What the EHR sent for one key: no data (null), the data, or nothing usable (to be fetched). */
function prefetchState(provided: Resource | null | undefined): 'empty' | 'hit' | 'miss' {
  if (provided === null) return 'empty';
  return isUsable(provided) ? 'hit' : 'miss';
}

/** Whether the prefetch holds every key of the record, so nothing need be fetched. */
export function prefetchComplete(service: LoadedService, request: HookRequest): boolean {
  return [...service.templates.keys()].every((key) => prefetchState(request.prefetch[key]) !== 'miss');
}

export async function gatherPatientRecord(
  service: LoadedService,
  request: HookRequest,
  fetcher: FhirFetcher,
  deadline?: AbortSignal,
  metrics?: HookMetrics,
  /** Epoch ms by which paging through search results should be done (see FhirQuery.pageUntil). */
  pageUntil?: number,
): Promise<GatheredRecord> {
  const resources: FhirResource[] = [];
  const missing: { key: string; query: string | undefined }[] = [];
  for (const [key, template] of service.templates) {
    const provided = request.prefetch[key];
    const state = prefetchState(provided);
    metrics?.prefetch(key, state);
    if (state === 'hit') resources.push(...resourcesOf(provided as Resource));
    if (state === 'miss') missing.push({ key, query: template.render(request.context) });
  }
  if (missing.length === 0) return { record: dedupe(resources), fetchedKeys: [], truncatedKeys: [] };

  const keys = missing.map((m) => m.key).join(', ');
  if (!request.fhirServer) {
    throw prefetchUnavailable(`prefetch ${keys} missing and no fhirServer given to fetch it from`);
  }
  const unfillable = missing.find((m) => m.query === undefined);
  if (unfillable) throw prefetchUnavailable(`prefetch ${unfillable.key} cannot be fetched: its template needs a context value that is absent`);

  // The first failure decides the answer, so stop the other requests then.
  const stop = new AbortController();
  const signal = deadline ? AbortSignal.any([stop.signal, deadline]) : stop.signal;
  const fhirServer = request.fhirServer;
  const accessToken = request.fhirAuthorization?.access_token;
  const truncatedKeys: string[] = [];
  try {
    const results = await Promise.all(
      missing.map(async ({ key, query }) => {
        const started = performance.now();
        try {
          const result = await fetcher.fetch({ fhirServer, accessToken, query: query as string, signal, pageUntil });
          metrics?.fhirFetch(key, 'ok', (performance.now() - started) / 1000);
          if (result.truncated) truncatedKeys.push(key);
          return result.resources;
        } catch (error) {
          metrics?.fhirFetch(key, error instanceof FhirFetchError ? error.reason : 'error', (performance.now() - started) / 1000);
          if (error instanceof FhirFetchError) {
            throw prefetchUnavailable(`could not fetch prefetch ${key} from fhirServer: ${error.message}`);
          }
          throw error;
        }
      }),
    );
    for (const fetched of results) resources.push(...fetched);
  } finally {
    stop.abort();
  }
  return { record: dedupe(resources), fetchedKeys: missing.map((m) => m.key), truncatedKeys };
}
