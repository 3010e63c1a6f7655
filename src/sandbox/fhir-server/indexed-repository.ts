/**
 * The embedded server's in-memory store: Medplum's repository interface (so Medplum's FhirRouter does the REST
 * work) over our own maps, for two things Medplum's MemoryRepository cannot do at tester scale:
 * - Searches by patient are indexed. Every reference search parameter that can point at a Patient (`patient`,
 *   `subject`, `performer`, ...) is evaluated once per write, with the same FHIRPath and reference
 *   normalisation Medplum's matcher uses, into an index `type -> parameter -> reference -> ids`. A search with
 *   such a parameter as an exact filter reads only the indexed candidates; the rest of the filters are still
 *   checked by Medplum's matcher, and results come in storage order, so answers and paging are the same as a
 *   scan over every stored resource.
 * - Writes can be undone: `transaction()` records what each write replaced and restores it when the work fails,
 *   which makes FHIR transactions atomic however many entries they have.
 */
import {
  OperationOutcomeError,
  Operator,
  badRequest,
  convertToSearchableReferences,
  deepClone,
  evalFhirPath,
  evalFhirPathTyped,
  generateId,
  getSearchParameters,
  matchesSearchRequest,
  normalizeOperationOutcome,
  notFound,
  preconditionFailed,
  splitSearchOnComma,
  stringify,
  toTypedValue,
  type Filter,
  type SearchRequest,
  type WithId,
} from '@medplum/core';
import { FhirRepository, type RepositoryMode, type UpdateResourceOptions } from '@medplum/fhir-router';
import type { Bundle, Reference, Resource, SearchParameter } from '@medplum/fhirtypes';
import { applyPatch, type Operation } from 'rfc6902';
import { narrowSearchExpressions } from './definitions';

type Stored = WithId<Resource>;

/** What one write replaced, so that it can be put back. */
interface UndoStep {
  type: string;
  id: string;
  previous: Stored | undefined;
  historyLength: number;
}

export class IndexedRepository extends FhirRepository<undefined> {
  /** type -> id -> current version. Map order is storage order: a new id goes last, an update keeps its place. */
  private readonly current = new Map<string, Map<string, Stored>>();
  /** type -> id -> every version, oldest first; kept after a delete, as Medplum's repository does. */
  private readonly history = new Map<string, Map<string, Stored[]>>();
  /** type -> id -> place in storage order, to put indexed candidates back in that order. */
  private readonly position = new Map<string, Map<string, number>>();
  private nextPosition = 0;
  /** type -> parameter code -> reference string -> ids. */
  private readonly index = new Map<string, Map<string, Map<string, Set<string>>>>();
  private undoLog: UndoStep[] | undefined;

  /**
   * @param useIndex whether searches may use the index; false makes every search scan all stored resources of
   * its type (the baseline the benchmark and the tests compare with). It may be switched at any time.
   */
  constructor(public useIndex = true) {
    super();
  }

  setMode(_mode: RepositoryMode): void {
    // One in-memory store: no readers or writers to choose between.
  }

  generateId(): string {
    return generateId();
  }

  async createResource<T extends Resource>(resource: T): Promise<WithId<T>> {
    const stored = JSON.parse(stringify(resource)) as Stored;
    stored.id ??= this.generateId();
    stored.meta ??= {};
    stored.meta.versionId ??= generateId();
    stored.meta.lastUpdated ??= new Date().toISOString();
    this.put(stored);
    return deepClone(stored) as WithId<T>;
  }

  async updateResource<T extends Resource>(resource: T, options?: UpdateResourceOptions): Promise<WithId<T>> {
    if (!resource.id) throw new OperationOutcomeError(badRequest('Missing id'));
    if (options?.ifMatch) {
      const existing = this.current.get(resource.resourceType)?.get(resource.id);
      if (!existing) throw new OperationOutcomeError(notFound);
      if (existing.meta?.versionId !== options.ifMatch) throw new OperationOutcomeError(preconditionFailed);
    }
    // A new version gets its own version id and time, whatever the client sent.
    const next = deepClone(resource);
    if (next.meta) {
      delete next.meta.versionId;
      delete next.meta.lastUpdated;
    }
    return this.createResource(next);
  }

  async patchResource<T extends Resource>(resourceType: T['resourceType'], id: string, patch: Operation[]): Promise<WithId<T>> {
    const resource = await this.readResource<T>(resourceType, id);
    let errors: unknown[];
    try {
      errors = applyPatch(resource, patch).filter(Boolean);
    } catch (err) {
      throw new OperationOutcomeError(normalizeOperationOutcome(err));
    }
    if (errors.length > 0) throw new OperationOutcomeError(badRequest(errors.map((e) => (e as Error).message).join('\n')));
    return this.updateResource(resource);
  }

  async deleteResource(resourceType: string, id: string): Promise<void> {
    const existing = this.current.get(resourceType)?.get(id);
    if (!existing) throw new OperationOutcomeError(notFound);
    this.remember(resourceType, id, existing);
    this.unindex(existing);
    this.current.get(resourceType)!.delete(id);
    this.position.get(resourceType)!.delete(id);
  }

  async readResource<T extends Resource>(resourceType: string, id: string): Promise<WithId<T>> {
    const resource = this.current.get(resourceType)?.get(id);
    if (!resource) throw new OperationOutcomeError(notFound);
    return deepClone(resource) as WithId<T>;
  }

  async readReference<T extends Resource>(reference: Reference<T>): Promise<WithId<T>> {
    const parts = reference.reference?.split('/');
    if (parts?.length !== 2) throw new OperationOutcomeError(badRequest('Invalid reference'));
    return this.readResource(parts[0], parts[1]);
  }

  async readReferences<T extends Resource>(references: readonly Reference<T>[]): Promise<(T | Error)[]> {
    return Promise.all(references.map((r) => this.readReference(r).catch((err: Error) => err)));
  }

  async readHistory<T extends Resource>(resourceType: string, id: string): Promise<Bundle<WithId<T>>> {
    await this.readResource(resourceType, id);
    const versions = (this.history.get(resourceType)?.get(id) ?? []).slice().reverse();
    const entry = versions.map((version) => ({ resource: deepClone(version) as WithId<T> }));
    return { resourceType: 'Bundle', type: 'history', ...(entry.length ? { entry } : {}) };
  }

  async readVersion<T extends Resource>(resourceType: string, id: string, versionId: string): Promise<WithId<T>> {
    await this.readResource(resourceType, id);
    const version = this.history.get(resourceType)?.get(id)?.find((v) => v.meta?.versionId === versionId);
    if (!version) throw new OperationOutcomeError(notFound);
    return deepClone(version) as WithId<T>;
  }

  async search<T extends Resource>(searchRequest: SearchRequest<T>): Promise<Bundle<WithId<T>>> {
    narrowSearchExpressions(searchRequest.resourceType);
    const { candidates, rest } = this.candidates(searchRequest);
    const matches: Stored[] = [];
    for (const resource of candidates) {
      if (matchesSearchRequest(resource, rest)) matches.push(resource);
    }
    const sorted = sortResources(matches, searchRequest);
    const from = searchRequest.offset ?? 0;
    const page = sorted.slice(from, searchRequest.count === undefined ? undefined : from + searchRequest.count);
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      entry: page.length ? page.map((resource) => ({ resource: deepClone(resource) as WithId<T> })) : undefined,
      total: matches.length,
    };
  }

  async searchByReference<T extends Resource>(
    searchRequest: SearchRequest<T>,
    referenceField: string,
    references: string[],
  ): Promise<Record<string, WithId<T>[]>> {
    const results: Record<string, WithId<T>[]> = {};
    for (const reference of references) {
      const filters = [...(searchRequest.filters ?? []), { code: referenceField, operator: Operator.EQUALS, value: reference }];
      const bundle = await this.search({ ...searchRequest, filters });
      results[reference] = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    }
    return results;
  }

  /** Medplum's conditional operations wrap their search and write in this; they need nothing more here. */
  withTransaction<TResult>(callback: (client: undefined) => Promise<TResult>): Promise<TResult> {
    return callback(undefined);
  }

  /**
   * Runs `work`; if it throws or `failed(result)` says so, every write it made is undone. The store never
   * waits on I/O, so nothing else writes in between (the work finishes within one turn of the event loop).
   */
  async transaction<TResult>(work: () => Promise<TResult>, failed: (result: TResult) => boolean): Promise<TResult> {
    if (this.undoLog) throw new Error('transactions do not nest');
    const log: UndoStep[] = [];
    this.undoLog = log;
    try {
      const result = await work();
      if (failed(result)) this.undo(log);
      return result;
    } catch (err) {
      this.undo(log);
      throw err;
    } finally {
      this.undoLog = undefined;
    }
  }

  private put(resource: Stored): void {
    const { resourceType: type, id } = resource;
    const byId = mapIn(this.current, type);
    const previous = byId.get(id);
    this.remember(type, id, previous);
    if (previous) this.unindex(previous);
    else mapIn(this.position, type).set(id, this.nextPosition++);
    byId.set(id, resource);
    this.indexResource(resource);
    const versions = mapIn(this.history, type);
    const list = versions.get(id);
    if (list) list.push(resource);
    else versions.set(id, [resource]);
  }

  private remember(type: string, id: string, previous: Stored | undefined): void {
    this.undoLog?.push({ type, id, previous, historyLength: this.history.get(type)?.get(id)?.length ?? 0 });
  }

  private undo(log: UndoStep[]): void {
    for (const step of log.reverse()) {
      const byId = mapIn(this.current, step.type);
      const now = byId.get(step.id);
      if (now) this.unindex(now);
      if (step.previous) {
        if (!now) mapIn(this.position, step.type).set(step.id, this.nextPosition++);
        byId.set(step.id, step.previous);
        this.indexResource(step.previous);
      } else {
        byId.delete(step.id);
        this.position.get(step.type)?.delete(step.id);
      }
      const versions = this.history.get(step.type);
      const kept = versions?.get(step.id)?.slice(0, step.historyLength) ?? [];
      if (kept.length) versions!.set(step.id, kept);
      else versions?.delete(step.id);
    }
  }

  /**
   * The stored resources a search has to look at, in storage order, and the search they still have to match.
   * The index holds exactly what the matcher would compute, so the filter it answered is not checked again.
   */
  private candidates(searchRequest: SearchRequest): { candidates: Iterable<Stored>; rest: SearchRequest } {
    const byId = this.current.get(searchRequest.resourceType);
    if (!byId) return { candidates: [], rest: searchRequest };
    const answered = this.useIndex ? this.indexedFilter(searchRequest) : undefined;
    if (!answered) return { candidates: byId.values(), rest: searchRequest };
    const positions = this.position.get(searchRequest.resourceType)!;
    const candidates = [...answered.ids].sort((a, b) => positions.get(a)! - positions.get(b)!).map((id) => byId.get(id)!);
    return { candidates, rest: { ...searchRequest, filters: searchRequest.filters!.filter((f) => f !== answered.filter) } };
  }

  /** The indexed filter that allows the fewest ids, with those ids; undefined when no filter is indexed: scan. */
  private indexedFilter(searchRequest: SearchRequest): { filter: Filter; ids: Set<string> } | undefined {
    const byCode = this.index.get(searchRequest.resourceType);
    let best: { filter: Filter; ids: Set<string> } | undefined;
    for (const filter of searchRequest.filters ?? []) {
      if (!isIndexableFilter(filter) || !indexedParameters(searchRequest.resourceType).has(filter.code)) continue;
      const byReference = byCode?.get(filter.code);
      const ids = new Set<string>();
      for (const value of splitSearchOnComma(filter.value)) for (const id of byReference?.get(value) ?? []) ids.add(id);
      if (!best || ids.size < best.ids.size) best = { filter, ids };
    }
    return best;
  }

  private indexResource(resource: Stored): void {
    for (const [code, references] of indexEntries(resource)) {
      const byReference = mapIn(mapIn(this.index, resource.resourceType), code);
      for (const reference of references) {
        let ids = byReference.get(reference);
        if (!ids) byReference.set(reference, (ids = new Set()));
        ids.add(resource.id);
      }
    }
  }

  private unindex(resource: Stored): void {
    const byCode = this.index.get(resource.resourceType);
    for (const [code, references] of indexEntries(resource)) {
      const byReference = byCode?.get(code);
      for (const reference of references) {
        const ids = byReference?.get(reference);
        ids?.delete(resource.id);
        if (ids?.size === 0) byReference!.delete(reference);
      }
    }
  }
}

/** An exact reference match (`patient=Patient/1`, also comma-separated): what the index answers. */
function isIndexableFilter(filter: Filter): boolean {
  return filter.operator === Operator.EQUALS && filter.value !== '';
}

const parametersByType = new Map<string, Map<string, SearchParameter>>();

/** The reference parameters of a type that can point at a Patient: the ones searches by patient use. */
function indexedParameters(resourceType: string): Map<string, SearchParameter> {
  let params = parametersByType.get(resourceType);
  if (!params) {
    params = new Map();
    for (const [code, param] of Object.entries(getSearchParameters(resourceType) ?? {})) {
      if (param.type === 'reference' && param.expression && (param.target ?? []).includes('Patient')) params.set(code, param);
    }
    parametersByType.set(resourceType, params);
  }
  return params;
}

/** The reference strings each indexed parameter yields for a resource, computed as Medplum's matcher does. */
function indexEntries(resource: Stored): [string, string[]][] {
  narrowSearchExpressions(resource.resourceType);
  const entries: [string, string[]][] = [];
  for (const [code, param] of indexedParameters(resource.resourceType)) {
    const values = evalFhirPathTyped(param.expression!, [toTypedValue(resource)]);
    const references = convertToSearchableReferences(values).filter(Boolean);
    if (references.length) entries.push([code, references]);
  }
  return entries;
}

/**
 * Applies the sort rules one after the other with a stable sort, so the last rule is the primary key; that is
 * how Medplum's router hands them over (search-params.ts reverses `_sort` for it). Values compare as the JSON
 * of what the parameter's FHIRPath yields, as in Medplum's in-memory repository.
 */
function sortResources(resources: Stored[], searchRequest: SearchRequest): Stored[] {
  let sorted = resources;
  for (const rule of searchRequest.sortRules ?? []) {
    const expression = getSearchParameters(searchRequest.resourceType)?.[rule.code]?.expression;
    if (!expression) continue;
    const keys = new Map(sorted.map((r) => [r, JSON.stringify(evalFhirPath(expression, r))]));
    const sign = rule.descending ? -1 : 1;
    sorted = [...sorted].sort((a, b) => keys.get(a)!.localeCompare(keys.get(b)!) * sign);
  }
  return sorted;
}

function mapIn<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) outer.set(key, (inner = new Map()));
  return inner;
}
