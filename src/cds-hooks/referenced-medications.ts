/**
 * Medications by reference (criteria.md sections 1 and 3): a MedicationRequest, MedicationStatement or other
 * record may name its drug by `medicationReference` to a separate Medication resource. A contained Medication
 * (`#id`) travels with its resource and needs nothing here; a separate one that the data at hand lacks is read
 * from the EHR's FHIR server in one batched search, `Medication?_id=a,b,c`.
 *
 * An EHR can also send them as prefetch: a search template with `_include=MedicationRequest:medication` returns
 * them beside the orders, and every resource of a prefetched Bundle (included ones too) is part of the record.
 */
import type { FhirResource } from 'fhir/r4';
import { FhirFetchError, type FhirFetcher } from '../fhir-client/fhir-fetch';
import { prefetchUnavailable } from './errors';
import type { HookRequest } from './types';

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** One search names at most this many ids (a URL stays well under common server limits). */
const MAX_IDS = 100;

/** The id of the separate Medication a reference names (`Medication/x`, or absolute under the FHIR server), else undefined. */
function medicationId(reference: unknown, fhirServer: string | undefined): string | undefined {
  if (typeof reference !== 'string' || reference.startsWith('#')) return undefined;
  let relative = reference;
  if (/^https?:\/\//.test(reference)) {
    const base = fhirServer?.replace(/\/+$/, '');
    if (!base || !reference.startsWith(`${base}/`)) return undefined;
    relative = reference.slice(base.length + 1);
  }
  const m = /^Medication\/([^/]+)(\/_history\/[^/]+)?$/.exec(relative);
  return m && ID.test(m[1]) ? m[1] : undefined;
}

/** Ids of the separate Medications that `resources` reference and `available` does not hold, each once, in order. */
export function missingMedicationIds(resources: readonly unknown[], available: readonly unknown[], fhirServer?: string): string[] {
  const held = new Set(
    available.flatMap((r) => {
      const res = r as { resourceType?: unknown; id?: unknown } | null;
      return res?.resourceType === 'Medication' && typeof res.id === 'string' ? [res.id] : [];
    }),
  );
  const missing = new Set<string>();
  for (const r of resources) {
    const reference = (r as { medicationReference?: { reference?: unknown } } | null)?.medicationReference?.reference;
    const id = medicationId(reference, fhirServer);
    if (id && !held.has(id)) missing.add(id);
  }
  return [...missing];
}

/**
 * Reads the Medications the given resources reference and `available` lacks, in one search. Without a FHIR server
 * to ask, nothing is read (the medication stays unnamed). A failed search is a 412, like any record the service
 * needs and cannot have.
 */
export async function fetchReferencedMedications(
  request: HookRequest,
  fetcher: FhirFetcher,
  resources: readonly unknown[],
  available: readonly unknown[],
  signal?: AbortSignal,
): Promise<FhirResource[]> {
  const ids = missingMedicationIds(resources, available, request.fhirServer).slice(0, MAX_IDS);
  if (ids.length === 0 || !request.fhirServer) return [];
  try {
    const result = await fetcher.fetch({
      fhirServer: request.fhirServer,
      accessToken: request.fhirAuthorization?.access_token,
      query: `Medication?_id=${ids.map(encodeURIComponent).join(',')}`,
      signal,
    });
    return result.resources.filter((r) => r.resourceType === 'Medication');
  } catch (error) {
    if (error instanceof FhirFetchError) throw prefetchUnavailable(`could not fetch the Medications the orders or the record refer to from fhirServer: ${error.message}`);
    throw error;
  }
}
