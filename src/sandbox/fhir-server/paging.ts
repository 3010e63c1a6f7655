/**
 * Search-result decoration Medplum's router leaves out: absolute `fullUrl`s and `self` / `next` / `previous`
 * links. Pages are addressed by `_offset` + `_count` over the (stable, insertion-ordered) result, so a link
 * stays valid as long as the data does not change.
 */
import type { Bundle, BundleLink } from 'fhir/r4';
import type { NormalizedSearch } from './search-params';

export function decorateSearchset(bundle: Bundle, baseUrl: string, resourceType: string, search: NormalizedSearch): Bundle {
  const entry = bundle.entry?.map((e) => ({
    fullUrl: `${baseUrl}/${e.resource?.resourceType}/${e.resource?.id}`,
    resource: e.resource,
    search: { mode: 'match' as const },
  }));
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    total: bundle.total,
    link: pageLinks(`${baseUrl}/${resourceType}`, search, bundle.total ?? 0),
    ...(entry?.length ? { entry } : {}),
  };
}

function pageLinks(searchUrl: string, search: NormalizedSearch, total: number): BundleLink[] {
  const { count, offset } = search;
  const page = (at: number): string => {
    const query = new URLSearchParams(search.params);
    query.set('_count', String(count));
    query.set('_offset', String(at));
    return `${searchUrl}?${query}`;
  };
  const links: BundleLink[] = [{ relation: 'self', url: page(offset) }];
  if (count > 0 && offset + count < total) links.push({ relation: 'next', url: page(offset + count) });
  if (count > 0 && offset > 0) links.push({ relation: 'previous', url: page(Math.max(0, offset - count)) });
  return links;
}
