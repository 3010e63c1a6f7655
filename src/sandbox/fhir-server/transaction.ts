/**
 * Transactions of any size. Medplum's router refuses a transaction with more than 50 updates (or more than 8
 * entries when one is conditional) and cannot roll one back in memory; Synthea writes a patient as one
 * transaction of hundreds of entries. So the router processes the entries as a batch (same order: deletes,
 * creates, updates, ..., reads; same urn:uuid rewriting), inside an IndexedRepository transaction that undoes
 * every write when any entry fails; the caller then gets that entry's error, as FHIR asks of a transaction.
 *
 * Conditional references (`"reference": "Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|999"`, as
 * newer Synthea writes them) are resolved first, by a search of the stored data: exactly one match becomes
 * `Type/id`; none or several fail the bundle (FHIR R4 http.html#trules).
 */
import { parseSearchRequest } from '@medplum/core';
import type { Bundle, BundleEntry, OperationOutcome } from 'fhir/r4';
import { isKnownResourceType } from './definitions';
import type { IndexedRepository } from './indexed-repository';
import { FhirHttpError, badRequest } from './outcome';

/** A reference written as a search, `Type?params`. */
const CONDITIONAL_REFERENCE = /^([A-Z][A-Za-z]+)\?(.+)$/;

export async function resolveConditionalReferences(bundle: Bundle, repo: IndexedRepository): Promise<Bundle> {
  const resolved = new Map<string, string>();
  const entry: BundleEntry[] = [];
  for (const [i, e] of (bundle.entry ?? []).entries()) {
    entry.push(e.resource ? { ...e, resource: await rewrite(e.resource, `Bundle.entry[${i}].resource`, repo, resolved) } : e);
  }
  return { ...bundle, entry };
}

/** `value` with its conditional references resolved; the same object when it has none (most bundles). */
async function rewrite<T>(value: T, path: string, repo: IndexedRepository, resolved: Map<string, string>): Promise<T> {
  if (typeof value !== 'object' || value === null) return value;
  let changed: Record<string | number, unknown> | undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, v] of entries) {
    const at = typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
    const next =
      key === 'reference' && typeof v === 'string' && CONDITIONAL_REFERENCE.test(v)
        ? await resolve(v, at, repo, resolved)
        : await rewrite(v, at, repo, resolved);
    if (next === v) continue;
    changed ??= (Array.isArray(value) ? [...value] : { ...value }) as Record<string | number, unknown>;
    changed[key] = next;
  }
  return (changed ?? value) as T;
}

async function resolve(reference: string, path: string, repo: IndexedRepository, resolved: Map<string, string>): Promise<string> {
  const known = resolved.get(reference);
  if (known) return known;
  const type = CONDITIONAL_REFERENCE.exec(reference)![1];
  if (!isKnownResourceType(type)) throw badRequest(`${path}: '${type}' in the conditional reference is not a resource type`, path);
  const search = parseSearchRequest(reference);
  const matches = await repo.searchResources({ ...search, count: 2, offset: 0, sortRules: undefined });
  if (matches.length !== 1) {
    const found = matches.length === 0 ? 'matches no stored resource' : 'matches more than one stored resource';
    throw new FhirHttpError(matches.length === 0 ? 400 : 412, 'processing', `${path}: the conditional reference ${reference} ${found}`, path);
  }
  const literal = `${type}/${matches[0].id}`;
  resolved.set(reference, literal);
  return literal;
}

/** The first entry of a processed transaction that did not succeed, as the error the whole transaction answers. */
export function failedEntry(response: Bundle): FhirHttpError | undefined {
  for (const [i, e] of (response.entry ?? []).entries()) {
    const status = Number(e.response?.status ?? '200');
    if (status >= 200 && status < 300) continue;
    const outcome = e.response?.outcome as OperationOutcome | undefined;
    const issue = outcome?.issue?.[0];
    const text = issue?.details?.text ?? issue?.diagnostics ?? 'the entry failed';
    const code = issue?.code ?? 'processing';
    return new FhirHttpError(status, code, `Bundle.entry[${i}]: ${text}; nothing in the transaction was stored`, `Bundle.entry[${i}]`);
  }
  return undefined;
}
