/**
 * Up-front checks of a transaction or batch Bundle. The repository stores any resourceType it is given, and a
 * failed transaction is only undone after it ran; checking every entry before the first write turns the usual
 * mistakes (unknown type, id that disagrees with the URL, missing request) into one 400 that names the entry,
 * with nothing written. Search entries get the same rewriting as a search over HTTP.
 */
import type { Bundle, BundleEntry } from 'fhir/r4';
import { isFhirId, isKnownResourceType } from './definitions';
import { badRequest } from './outcome';
import { MAX_PAGE_SIZE, normalizeSearch, repositoryQuery } from './search-params';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/** Returns the Bundle to hand to Medplum; throws FhirHttpError when a check fails. */
export function checkBundle(body: unknown): Bundle {
  const bundle = body as Bundle;
  if (bundle.resourceType !== 'Bundle') {
    const got = String(bundle.resourceType);
    throw badRequest(`POST to the base URL takes a transaction or batch Bundle, got resourceType '${got}'`, 'resourceType');
  }
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw badRequest(`Bundle.type must be transaction or batch, got '${String(bundle.type)}'`, 'Bundle.type');
  }
  if (!Array.isArray(bundle.entry) || bundle.entry.length === 0) {
    throw badRequest('The Bundle has no entries', 'Bundle.entry');
  }
  return { ...bundle, entry: bundle.entry.map((entry, i) => checkEntry(entry, `Bundle.entry[${i}]`)) };
}

function checkEntry(entry: BundleEntry, path: string): BundleEntry {
  const method = entry?.request?.method;
  const url = entry?.request?.url;
  if (!method || !METHODS.includes(method)) {
    throw badRequest(`${path}.request.method must be one of ${METHODS.join(', ')}`, `${path}.request.method`);
  }
  if (typeof url !== 'string' || url === '') throw badRequest(`${path}.request.url is missing`, `${path}.request.url`);

  const [pathPart, queryPart] = splitUrl(url);
  const [type, id, ...rest] = pathPart.split('/');
  if (!isKnownResourceType(type)) throw badRequest(`${path}.request.url: unknown resource type '${type}'`, `${path}.request.url`);

  const resource = entry.resource;
  if (method === 'POST' || method === 'PUT') {
    if (!resource || typeof resource !== 'object') throw badRequest(`${path}.resource is missing`, `${path}.resource`);
    if (resource.resourceType !== type) {
      const got = String(resource.resourceType);
      throw badRequest(`${path}.resource.resourceType '${got}' does not match request.url '${url}'`, `${path}.resource.resourceType`);
    }
  }
  if (method === 'PUT' && id !== undefined) {
    if (!isFhirId(id) || rest.length > 0) {
      throw badRequest(`${path}.request.url: '${id}' is not a valid FHIR id`, `${path}.request.url`);
    }
    if (resource?.id !== id) {
      throw badRequest(`${path}.resource.id '${String(resource?.id)}' does not match request.url '${url}'`, `${path}.resource.id`);
    }
  }
  if (method === 'GET' && id === undefined && queryPart !== undefined) {
    return { ...entry, request: { ...entry.request!, url: `${type}?${searchQuery(type, queryPart)}` } };
  }
  return entry;
}

function splitUrl(url: string): [string, string | undefined] {
  const q = url.indexOf('?');
  return q < 0 ? [url, undefined] : [url.slice(0, q), url.slice(q + 1)];
}

function searchQuery(type: string, query: string): string {
  const pairs = [...new URLSearchParams(query)];
  const search = normalizeSearch(type, pairs);
  // A search inside a batch answers without paging links, so it is not cut at the default page size.
  if (!pairs.some(([key]) => key === '_count')) search.count = MAX_PAGE_SIZE;
  const out = new URLSearchParams();
  for (const [key, values] of Object.entries(repositoryQuery(search))) for (const v of values) out.append(key, v);
  return out.toString();
}
