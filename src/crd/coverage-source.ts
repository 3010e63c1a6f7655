/**
 * Where the patient's Coverages come from (criteria.md section 5): prefetch key `coverage`, else the
 * Coverages the record fetch read for that key, else the service's own query
 * `Coverage?patient=…&status=active` against the EHR's FHIR server. A failed fetch is "no Coverage
 * known" here; the caller decides what that means.
 */
import type { FhirResource, Resource } from 'fhir/r4';
import type { FhirFetcher } from '../fhir-client/fhir-fetch';
import type { HookRequest } from '../cds-hooks/types';

export const COVERAGE_PREFETCH_KEY = 'coverage';

function coveragesIn(resource: Resource): FhirResource[] {
  const entries = (resource as { entry?: unknown }).entry;
  const list =
    resource.resourceType === 'Bundle'
      ? (Array.isArray(entries) ? entries : []).map((e) => (e as { resource?: unknown } | null)?.resource)
      : [resource];
  return list.filter((r): r is FhirResource => typeof r === 'object' && r !== null && (r as Resource).resourceType === 'Coverage');
}

export interface CoverageSourceOptions {
  /** The record gathered for the call, or null when it could not be read. */
  record: readonly FhirResource[] | null;
  /** Whether the service's prefetch templates include the coverage key (so the record holds what it found). */
  recordHasCoverageKey: boolean;
  fetcher: FhirFetcher;
  signal?: AbortSignal;
}

export async function patientCoverages(request: HookRequest, options: CoverageSourceOptions): Promise<FhirResource[]> {
  const sent = request.prefetch[COVERAGE_PREFETCH_KEY];
  // null: the EHR says it has no data for the key.
  if (sent === null) return [];
  if (sent && sent.resourceType !== 'OperationOutcome') return coveragesIn(sent);
  if (options.record && options.recordHasCoverageKey) return options.record.filter((r) => r.resourceType === 'Coverage');
  if (!request.fhirServer) return [];
  try {
    const result = await options.fetcher.fetch({
      fhirServer: request.fhirServer,
      accessToken: request.fhirAuthorization?.access_token,
      query: `Coverage?patient=${encodeURIComponent(request.context.patientId)}&status=active`,
      signal: options.signal,
    });
    return result.resources.filter((r) => r.resourceType === 'Coverage');
  } catch {
    return [];
  }
}
