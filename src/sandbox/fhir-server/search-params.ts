/**
 * Checks and rewrites a search query before it reaches Medplum's in-memory repository, which otherwise answers
 * unknown parameters, unsupported modifiers and bad numbers with an empty result instead of an error. The output
 * is the canonical query: it feeds the repository and the paging links.
 */
import { isDateTimeString } from '@medplum/core';
import type { SearchParameter } from 'fhir/r4';
import { isKnownResourceType, isSupportedSearchType, searchParameter } from './definitions';
import { badRequest, notSupported } from './outcome';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 1000;

export type QueryPairs = [string, string][];

export interface NormalizedSearch {
  /** Filters and `_sort`, rewritten; no `_count` / `_offset`. */
  params: QueryPairs;
  count: number;
  offset: number;
}

/** Result parameters that change nothing in an in-memory JSON server, dropped after a check. */
const IGNORED_RESULT_PARAMS = new Set(['_format', '_pretty', '_total', '_elements']);
const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);
const DATE_PREFIX = /^(eq|ne|gt|lt|ge|le|sa|eb|ap)/;
const ALLOWED_MODIFIERS: Record<string, string[]> = {
  reference: [],
  token: ['not'],
  date: [],
  string: ['contains'],
  uri: [],
};

export function normalizeSearch(resourceType: string, query: QueryPairs): NormalizedSearch {
  const search: NormalizedSearch = { params: [], count: DEFAULT_PAGE_SIZE, offset: 0 };
  for (const [key, value] of query) {
    // An empty value is no constraint; HAPI ignores it the same way.
    if (value === '') continue;
    const colon = key.indexOf(':');
    const code = colon < 0 ? key : key.slice(0, colon);
    const modifier = colon < 0 ? '' : key.slice(colon + 1);
    if (code.startsWith('_') && !searchParameter(resourceType, code)) {
      resultParameter(resourceType, search, key, value);
      continue;
    }
    if (code.includes('.')) throw notSupported(`Chained search (${key}) is not supported by the embedded FHIR sandbox`, key);
    const param = searchParameter(resourceType, code);
    if (!param) throw badRequest(`Unknown search parameter '${code}' for resource type ${resourceType}`, code);
    if (!isSupportedSearchType(param.type)) {
      throw notSupported(`Search parameter '${code}' has type ${param.type}, which the embedded FHIR sandbox cannot search`, code);
    }
    search.params.push(filter(param, modifier, value));
  }
  return search;
}

/** The query Medplum's repository gets for one page. */
export function repositoryQuery(search: NormalizedSearch): Record<string, string[]> {
  const query: Record<string, string[]> = {};
  for (const [key, value] of search.params) {
    // Medplum sorts once per `_sort` key and the sort is stable, so the key applied last decides the order:
    // hand the keys over in reverse to get FHIR's "first key is primary".
    const v = key === '_sort' ? value.split(',').reverse().join(',') : value;
    (query[key] ??= []).push(v);
  }
  query._count = [String(search.count)];
  query._offset = [String(search.offset)];
  return query;
}

function resultParameter(resourceType: string, search: NormalizedSearch, key: string, value: string): void {
  switch (key) {
    case '_sort':
      search.params.push([key, sortValue(resourceType, value)]);
      return;
    case '_count':
      search.count = Math.min(nonNegativeInteger(key, value), MAX_PAGE_SIZE);
      return;
    case '_offset':
      search.offset = nonNegativeInteger(key, value);
      return;
    case '_summary':
      if (value === 'count') search.count = 0;
      else if (value !== 'false') throw notSupported(`_summary=${value} is not supported (use count or false)`, key);
      return;
    case '_format':
      if (!JSON_FORMATS.has(value)) throw notSupported(`_format=${value} is not supported: this server speaks JSON only`, key);
      return;
    default:
      if (IGNORED_RESULT_PARAMS.has(key)) return;
      throw notSupported(`The search parameter '${key}' is not supported by the embedded FHIR sandbox`, key);
  }
}

function sortValue(resourceType: string, value: string): string {
  for (const field of value.split(',')) {
    const code = field.startsWith('-') ? field.slice(1) : field;
    const param = searchParameter(resourceType, code);
    if (!param || !isSupportedSearchType(param.type)) {
      throw badRequest(`_sort: '${code}' is not a search parameter of ${resourceType} that this server can sort by`, '_sort');
    }
  }
  return value;
}

function nonNegativeInteger(key: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw badRequest(`${key} must be a non-negative integer, got '${value}'`, key);
  return Number(value);
}

function filter(param: SearchParameter, modifier: string, value: string): [string, string] {
  const { code, type } = param;
  if (modifier === 'missing') {
    if (value !== 'true' && value !== 'false') throw badRequest(`${code}:missing must be true or false, got '${value}'`, code);
    return [`${code}:missing`, value];
  }
  if (type === 'reference') return [code, referenceValue(param, modifier, value)];
  if (modifier && !ALLOWED_MODIFIERS[type].includes(modifier)) {
    throw notSupported(`Modifier ':${modifier}' on ${type} parameter '${code}' is not supported by the embedded FHIR sandbox`, code);
  }
  if (type === 'date') checkDateValue(code, value);
  return [modifier ? `${code}:${modifier}` : code, value];
}

/**
 * Medplum matches references only as `Type/id`, while clients (and HAPI) also send a bare id or name the type
 * as a modifier (`subject:Patient=123`). A bare id is expanded to every target type the parameter allows.
 */
function referenceValue(param: SearchParameter, modifier: string, value: string): string {
  const targets = param.target ?? [];
  if (modifier && !(isKnownResourceType(modifier) && (targets.length === 0 || targets.includes(modifier as never)))) {
    throw notSupported(`Modifier ':${modifier}' on reference parameter '${param.code}' is not supported`, param.code);
  }
  const types = modifier ? [modifier] : targets;
  return value
    .split(',')
    .flatMap((item) => (isBareId(item) && types.length > 0 ? types.map((t) => `${t}/${item}`) : [item]))
    .join(',');
}

function isBareId(value: string): boolean {
  return !value.includes('/') && !value.includes(':');
}

function checkDateValue(code: string, value: string): void {
  // Medplum parses a date value as a whole, so a comma list can never match; AND works by repeating the parameter.
  if (value.includes(',')) throw notSupported(`${code}: comma-separated dates are not supported by the embedded FHIR sandbox`, code);
  const prefix = DATE_PREFIX.exec(value)?.[0] ?? '';
  if (!isDateTimeString(value.slice(prefix.length))) {
    const expected = 'a FHIR date or dateTime with an optional prefix (eq, ne, gt, lt, ge, le, sa, eb, ap)';
    throw badRequest(`${code} must be ${expected}, got '${value}'`, code);
  }
}
