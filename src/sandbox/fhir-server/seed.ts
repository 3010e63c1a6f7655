/**
 * Loads transaction Bundles (fixtures/patients/*.json, Synthea output, ...) into any FHIR R4 server - the embedded
 * one or HAPI - so that loading twice leaves the same data: every entry is sent as `PUT Type/id`, and references
 * to an entry's `urn:uuid` fullUrl become `Type/id`. Every file is read and checked before the first request, so a
 * broken file leaves the server untouched; files are then read again one at a time (600 Synthea patients are
 * 700 MB of JSON), and a bundle is sent after the bundles holding what it refers to, by `Type/id` or by a
 * conditional reference `Type?identifier=system|value` (HAPI refuses references to resources it does not hold
 * yet). With `maxEntriesPerRequest`, a larger bundle goes as several transactions, each after the ones holding
 * what it refers to. Messages name files and Type/id, never contents.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, OperationOutcome, Resource } from 'fhir/r4';

export interface SeedOptions {
  /** Per request; HAPI's first transaction after startup can take several seconds. Default 30 s. */
  timeoutMs?: number;
  /** Called after each file is loaded. */
  onFileLoaded?: (result: SeedFileResult) => void;
  /** Split bundles larger than this into several transactions (for servers that limit them); default: never. */
  maxEntriesPerRequest?: number;
}

export interface SeedFileResult {
  file: string;
  resources: number;
  /** Transactions sent for the file (more than one when it was split). */
  requests: number;
  ms: number;
}

/** A seeding failure with a message fit for the person running the command. */
export class SeedError extends Error {}

const DEFAULT_TIMEOUT_MS = 30_000;
const FHIR_JSON = 'application/fhir+json';

/** The `*.json` files of `dir`, sorted by name. */
export function listBundleFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new SeedError(`Cannot read the fixtures folder ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const files = names.filter((n) => n.endsWith('.json')).sort().map((n) => path.join(dir, n));
  if (files.length === 0) throw new SeedError(`No *.json files in ${dir}`);
  return files;
}

export async function seedFhirServer(baseUrl: string, files: string[], options: SeedOptions = {}): Promise<SeedFileResult[]> {
  const base = checkBaseUrl(baseUrl);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const max = options.maxEntriesPerRequest;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) throw new SeedError('maxEntriesPerRequest must be a positive whole number');
  const ordered = inDependencyOrder(files.map(outline));
  const results: SeedFileResult[] = [];
  for (const { file } of ordered) {
    const started = performance.now();
    const bundle = readBundle(file);
    const chunks = max && bundle.entry!.length > max ? split(bundle, max) : [bundle];
    for (const chunk of chunks) {
      const response = await request(base, '', timeoutMs, { method: 'POST', body: JSON.stringify(chunk) });
      await checkResponse(response, file, chunk, base);
    }
    const result = {
      file,
      resources: bundle.entry!.filter((e) => e.resource).length,
      requests: chunks.length,
      ms: Math.round(performance.now() - started),
    };
    options.onFileLoaded?.(result);
    results.push(result);
  }
  return results;
}

/** Polls `GET [base]/metadata` until the server answers with a CapabilityStatement (HAPI needs a minute or two). */
export async function waitForFhirServer(
  baseUrl: string,
  { timeoutMs = 300_000, intervalMs = 2_000 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const base = checkBaseUrl(baseUrl);
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const response = await request(base, '/metadata', Math.min(10_000, timeoutMs), { method: 'GET' });
      const body = (await response.json().catch(() => undefined)) as { resourceType?: string } | undefined;
      if (response.ok && body?.resourceType === 'CapabilityStatement') return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new SeedError(`The FHIR server at ${base} was not ready within ${Math.round(timeoutMs / 1000)} s (${last})`);
}

function checkBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new SeedError(`The FHIR base URL '${baseUrl}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SeedError(`The FHIR base URL '${baseUrl}' must be http(s)`);
  return baseUrl.replace(/\/+$/, '');
}

/** Reads and checks a file; answers it as it will be sent: PUT entries, urn:uuid references made literal. */
function readBundle(file: string): Bundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // JSON.parse's message quotes the file; name the problem only.
    throw new SeedError(code ? `${file}: cannot read the file (${code})` : `${file}: not valid JSON`);
  }
  const bundle = parsed as Bundle;
  if (typeof parsed !== 'object' || parsed === null || bundle.resourceType !== 'Bundle') {
    throw new SeedError(`${file}: not a FHIR Bundle (resourceType is ${describe((parsed as Bundle | null)?.resourceType)})`);
  }
  if (bundle.type !== 'transaction' && bundle.type !== 'batch') {
    throw new SeedError(`${file}: Bundle.type must be "transaction" (or "batch"), found ${describe(bundle.type)}`);
  }
  if (!Array.isArray(bundle.entry) || bundle.entry.length === 0) throw new SeedError(`${file}: the Bundle has no entries`);
  const entry = bundle.entry.map((e, i) => asPut(e, `${file}: Bundle.entry[${i}]`));
  const literal = new Map<string, string>();
  for (const e of entry) if (e.fullUrl?.startsWith('urn:uuid:') && e.resource?.id) literal.set(e.fullUrl, entryName(e));
  return { ...bundle, entry: literal.size ? entry.map((e) => (e.resource ? { ...e, resource: withLiteralReferences(e.resource, literal) } : e)) : entry };
}

/** POST (or no request) with a known id becomes `PUT Type/id`, which creates or replaces: the run is repeatable. */
function asPut(entry: BundleEntry, where: string): BundleEntry {
  const resource = entry?.resource;
  const method = entry?.request?.method;
  if (method && method !== 'POST') return entry;
  if (!resource?.resourceType) throw new SeedError(`${where} has no resource`);
  if (!resource.id) {
    throw new SeedError(`${where} (${resource.resourceType}) has no id, so every run would create it again; give it a fixed id`);
  }
  // A conditional create (Synthea's shared Practitioners and Organizations) also becomes a PUT under its id.
  return { ...entry, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

/** Replaces references to the bundle's own urn:uuid fullUrls by `Type/id`, so any part of the bundle stands alone. */
function withLiteralReferences<T>(value: T, literal: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => withLiteralReferences(v, literal)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key === 'reference' && typeof v === 'string' ? (literal.get(v) ?? v) : withLiteralReferences(v, literal);
  }
  return out as T;
}

/** What ordering needs of a file: the names its resources can be referred to by, and what it refers to. */
interface Outline {
  file: string;
  names: Set<string>;
  references: Set<string>;
}

function outline(file: string): Outline {
  const bundle = readBundle(file);
  const names = new Set<string>();
  for (const entry of bundle.entry!) for (const name of namesOf(entry.resource)) names.add(name);
  return { file, names, references: references(bundle) };
}

/** `Type/id`, and `Type?identifier=system|value` for each identifier: how others refer to the resource. */
function namesOf(resource: Resource | undefined): string[] {
  if (!resource?.id) return [];
  const identifiers = (resource as { identifier?: { system?: string; value?: string }[] }).identifier;
  const conditional = Array.isArray(identifiers)
    ? identifiers.filter((i) => i?.system && i.value).map((i) => `${resource.resourceType}?identifier=${i.system}|${i.value}`)
    : [];
  return [`${resource.resourceType}/${resource.id}`, ...conditional];
}

/** Depth-first: each file after the files that define the resources it references; otherwise file order. */
function inDependencyOrder(outlines: Outline[]): Outline[] {
  const owner = new Map<string, Outline>();
  for (const o of outlines) for (const name of o.names) owner.set(name, o);
  const ordered: Outline[] = [];
  const seen = new Set<Outline>();
  const visit = (o: Outline): void => {
    // Already placed, or on the current path (a cycle): HAPI resolves references inside one bundle only.
    if (seen.has(o)) return;
    seen.add(o);
    for (const ref of o.references) {
      const dependency = owner.get(ref);
      if (dependency && dependency !== o) visit(dependency);
    }
    ordered.push(o);
  };
  outlines.forEach(visit);
  return ordered;
}

/** Splits a bundle into bundles of at most `max` entries, each entry after the entries it refers to. */
function split(bundle: Bundle, max: number): Bundle[] {
  const entries = bundle.entry!;
  const byName = new Map<string, BundleEntry>();
  for (const e of entries) for (const name of namesOf(e.resource)) byName.set(name, e);
  const ordered: BundleEntry[] = [];
  const seen = new Set<BundleEntry>();
  const visit = (e: BundleEntry): void => {
    // A reference cycle inside one bundle is cut here; servers that check references need such a bundle whole.
    if (seen.has(e)) return;
    seen.add(e);
    for (const ref of references(e.resource)) {
      const target = byName.get(ref);
      if (target) visit(target);
    }
    ordered.push(e);
  };
  entries.forEach(visit);
  const chunks: Bundle[] = [];
  for (let i = 0; i < ordered.length; i += max) chunks.push({ ...bundle, entry: ordered.slice(i, i + max) });
  return chunks;
}

/** The references anywhere in `value`: literal ones as `Type/id`, conditional ones (`Type?...`) as written. */
function references(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') found.add(v.includes('?') ? v : v.split('/').slice(0, 2).join('/'));
      else references(v, found);
    }
  }
  return found;
}

async function request(base: string, suffix: string, timeoutMs: number, init: RequestInit): Promise<Response> {
  try {
    return await fetch(base + suffix, {
      ...init,
      headers: { Accept: FHIR_JSON, ...(init.body ? { 'Content-Type': FHIR_JSON } : {}) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error & { cause?: NodeJS.ErrnoException };
    if (e.name === 'TimeoutError') throw new SeedError(`The FHIR server at ${base} did not answer within ${timeoutMs} ms`);
    const reason = e.cause?.code ? `${e.cause.code}: ${e.cause.message}` : (e.cause?.message ?? e.message);
    throw new SeedError(`Could not reach the FHIR server at ${base} (${reason})`);
  }
}

async function checkResponse(response: Response, file: string, sent: Bundle, base: string): Promise<void> {
  const text = await response.text();
  let body: (Bundle | OperationOutcome) | undefined;
  try {
    body = JSON.parse(text) as Bundle | OperationOutcome;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (body?.resourceType === 'OperationOutcome') {
      const at = pointedResource(body, sent);
      const where = at ? ` at ${at}` : '';
      throw new SeedError(`${file}: the FHIR server rejected the bundle (HTTP ${response.status})${where}: ${issuesText(body)}`);
    }
    const hint = response.status === 404 ? ` - is ${base} the FHIR base URL?` : '';
    throw new SeedError(`${file}: the FHIR server answered HTTP ${response.status} ${response.statusText}${hint}`);
  }
  if (body?.resourceType !== 'Bundle') {
    throw new SeedError(`${file}: ${base} did not answer with a FHIR Bundle - is it a FHIR base URL?`);
  }
  // A batch reports failures per entry with an overall 200.
  body.entry?.forEach((entry, i) => {
    const status = entry.response?.status ?? '';
    if (status && !status.startsWith('2')) {
      const outcome = entry.response?.outcome as OperationOutcome | undefined;
      const said = outcome ? `: ${issuesText(outcome)}` : '';
      throw new SeedError(`${file}: the FHIR server rejected ${entryName(sent.entry?.[i])} (HTTP ${status})${said}`);
    }
  });
}

/** The Type/id the server's OperationOutcome points at, by entry index (`entry[3]`) or by naming it. */
function pointedResource(outcome: OperationOutcome, sent: Bundle): string | undefined {
  const texts = (outcome.issue ?? []).flatMap((i) => [
    ...(i.expression ?? []),
    ...(i.location ?? []),
    i.diagnostics ?? '',
    i.details?.text ?? '',
  ]);
  for (const text of texts) {
    const index = /entry\[(\d+)\]/i.exec(text)?.[1];
    if (index !== undefined && sent.entry?.[Number(index)]) return entryName(sent.entry[Number(index)]);
  }
  const names = (sent.entry ?? []).map(entryName);
  return names.find((name) => texts.some((text) => text.includes(name)));
}

function entryName(entry: BundleEntry | undefined): string {
  const r = entry?.resource;
  return r?.id ? `${r.resourceType}/${r.id}` : (entry?.request?.url ?? 'an entry');
}

function issuesText(outcome: OperationOutcome): string {
  const texts = (outcome.issue ?? [])
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => [i.diagnostics ?? i.details?.text, i.expression?.join(', ')].filter(Boolean).join(' at '));
  return (texts.join('; ') || 'no details given').slice(0, 500);
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : `"${String(value)}"`;
}
