/**
 * Loads transaction Bundles (fixtures/patients/*.json) into any FHIR R4 server - the embedded one or HAPI - so that
 * loading twice leaves the same data: every entry is sent as `PUT Type/id`. All files are read and checked before
 * the first request, so a broken file leaves the server untouched, and a bundle is sent after the bundles holding
 * what it refers to (HAPI refuses references to resources it does not hold yet). Messages name files and Type/id,
 * never contents.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Bundle, BundleEntry, OperationOutcome } from 'fhir/r4';

export interface SeedOptions {
  /** Per request; HAPI's first transaction after startup can take several seconds. Default 30 s. */
  timeoutMs?: number;
  /** Called after each file is loaded. */
  onFileLoaded?: (result: SeedFileResult) => void;
}

export interface SeedFileResult {
  file: string;
  resources: number;
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
  const bundles = inDependencyOrder(files.map((file) => ({ file, bundle: readBundle(file) })));
  const results: SeedFileResult[] = [];
  for (const { file, bundle } of bundles) {
    const started = performance.now();
    const response = await request(base, '', timeoutMs, { method: 'POST', body: JSON.stringify(bundle) });
    await checkResponse(response, file, bundle, base);
    const result = { file, resources: bundle.entry!.filter((e) => e.resource).length, ms: Math.round(performance.now() - started) };
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
  return { ...bundle, entry: bundle.entry.map((entry, i) => asPut(entry, `${file}: Bundle.entry[${i}]`)) };
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
  return { ...entry, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } };
}

interface LoadedBundle {
  file: string;
  bundle: Bundle;
}

/** Depth-first: each bundle after the bundles that define the resources it references; otherwise file order. */
function inDependencyOrder(bundles: LoadedBundle[]): LoadedBundle[] {
  const owner = new Map<string, LoadedBundle>();
  for (const b of bundles) for (const entry of b.bundle.entry!) if (entry.resource?.id) owner.set(entryName(entry), b);
  const ordered: LoadedBundle[] = [];
  const seen = new Set<LoadedBundle>();
  const visit = (b: LoadedBundle): void => {
    // Already placed, or on the current path (a cycle): HAPI resolves references inside one bundle only.
    if (seen.has(b)) return;
    seen.add(b);
    for (const ref of references(b.bundle)) {
      const dependency = owner.get(ref);
      if (dependency && dependency !== b) visit(dependency);
    }
    ordered.push(b);
  };
  bundles.forEach(visit);
  return ordered;
}

/** The relative literal references (`Type/id`) anywhere in the bundle. */
function references(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, found));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'reference' && typeof v === 'string') found.add(v.split('/').slice(0, 2).join('/'));
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
