/**
 * Seeded, bounded fuzzing of the hook endpoints with the real policy engine: valid requests built
 * from fixtures/requests (prefetch inline, so no FHIR server is involved) are mutated (fields
 * dropped, retyped, duplicated, huge strings, deep nesting, random keys, malformed JSON) and sent
 * to one app instance. Every answer must be one of the defined statuses, never carry a stack trace,
 * and the app must still answer a valid request correctly afterwards without having grown its heap.
 * Needs `npm run build:cql` (the ELM).
 */
import { messageOf, outcome } from '../support/operation-outcome';
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEvaluation } from '../../src/engine/types';
import { silentLogger } from '../../src/cds-hooks/logger';
import { loadSecurityConfig } from '../../src/security/config';
import { readFixtureTable } from '../support/fixture-table';
import { testConfig } from '../cds-hooks/helpers';
import { allFixtureCalls, fixtureCall, type FixtureCall } from './support/fixture-requests';
import { Prng } from './support/prng';

const SEED = 0x5eed_2026;
const REQUESTS = 1200;
const CONCURRENCY = 4;
const ALLOWED_STATUSES = [200, 400, 404, 412, 413, 422, 429];
/**
 * Heap growth allowed over the whole run. With a forced GC before both readings (the normal case:
 * see forceGc) the heap holds only what the app keeps, so 50 MB is generous; without one, garbage
 * not yet collected is counted too, hence 150 MB.
 */
const HEAP_BOUND_FORCED_GC = 50 * 1024 * 1024;
const HEAP_BOUND_NO_GC = 150 * 1024 * 1024;

const HUGE = 100 * 1024;
const DEPTH = 200;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = (string | number)[];

/** Signs of an internal error leaking to the caller: stack frames, source locations, file paths. */
const LEAK_PATTERNS: RegExp[] = [
  /\bat (?:async )?(?:[\w$.<>\[\]]+ )?\(?(?:\/|[A-Za-z]:\\|node:|file:)[^\s)]*:\d+:\d+\)?/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /\b\w*Error: [^"]*\/[\w.-]+\/[\w.-]+/,
  /node_modules/,
];

/**
 * `global.gc` when node runs with --expose-gc; otherwise the flag is switched on at run time and
 * the function fetched from a fresh context (V8 installs `gc` on contexts created after the flag).
 */
function forceGc(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose_gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Every path into `value` (objects and arrays included), capped in depth. */
function pathsOf(value: Json, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  if (depth > 14 || value === null || typeof value !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [key, child] of entries) {
    const path = [...prefix, key];
    out.push(path);
    pathsOf(child, path, out, depth + 1);
  }
  return out;
}

function parentOf(root: Json, path: Path): { parent: Record<string | number, Json>; key: string | number } | undefined {
  let node: Json = root;
  for (const key of path.slice(0, -1)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, Json>)[key];
  }
  if (node === null || typeof node !== 'object') return undefined;
  return { parent: node as Record<string | number, Json>, key: path[path.length - 1] };
}

/** Sets an own property, even for names such as `__proto__` that plain assignment would treat specially. */
function setAt(root: Json, path: Path, value: Json): void {
  const at = parentOf(root, path);
  if (at) Object.defineProperty(at.parent, at.key, { value, enumerable: true, writable: true, configurable: true });
}

function deleteAt(root: Json, path: Path): void {
  const at = parentOf(root, path);
  if (!at) return;
  if (Array.isArray(at.parent) && typeof at.key === 'number') at.parent.splice(at.key, 1);
  else delete at.parent[at.key];
}

function getAt(root: Json, path: Path): Json | undefined {
  const at = parentOf(root, path);
  return at ? at.parent[at.key] : undefined;
}

const ODD_STRINGS = ['', ' ', '0', 'null', 'true', '{}', '[]', 'Patient/', '/../../etc/passwd', '\u0000', '\u202e', '😀', 'a'.repeat(300), '<script>', '%s%n', '${x}', 'http://127.0.0.1:1/fhir'];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'resourceType', 'id', 'entry', 'fhirServer', 'fhirAuthorization', 'selections', 'search', 'mode', ''];
const KINDS = ['string', 'number', 'boolean', 'null', 'object', 'array'] as const;

function kindOf(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function randomString(rng: Prng): string {
  if (rng.chance(0.5)) return rng.pick(ODD_STRINGS);
  return Array.from({ length: 1 + rng.int(12) }, () => String.fromCharCode(32 + rng.int(0x250))).join('');
}

function randomValue(rng: Prng, not?: string, depth = 0): Json {
  const kinds = KINDS.filter((k) => k !== not && (depth < 2 || (k !== 'object' && k !== 'array')));
  switch (rng.pick(kinds)) {
    case 'string':
      return randomString(rng);
    case 'number':
      return rng.pick([0, -1, 1, 2 ** 53 + 1, -1e308, 1e308, 0.5, 62362]);
    case 'boolean':
      return rng.chance(0.5);
    case 'null':
      return null;
    case 'object': {
      const obj: Record<string, Json> = {};
      for (let i = rng.int(3); i > 0; i--) obj[rng.pick(ODD_KEYS) || 'k'] = randomValue(rng, undefined, depth + 1);
      return obj;
    }
    default:
      return Array.from({ length: rng.int(3) }, () => randomValue(rng, undefined, depth + 1));
  }
}

function deepNest(rng: Prng): Json {
  let value: Json = randomString(rng);
  for (let i = 0; i < DEPTH; i++) value = rng.chance(0.5) ? { resourceType: 'Bundle', entry: value } : [value];
  return value;
}

/** Paths a mutation aims at half of the time: the fields the service reads first. */
function focusPaths(body: Json): Path[] {
  const all = pathsOf(body);
  return all.filter(
    (p) =>
      p.length <= 2 ||
      (p[0] === 'context' && p[1] === 'draftOrders' && p.length <= 6) ||
      (p[0] === 'prefetch' && p.length <= 5),
  );
}

type Mutation = (body: Json, rng: Prng) => void;

const MUTATIONS: Record<string, Mutation> = {
  dropField: (body, rng) => deleteAt(body, choosePath(body, rng)),
  retypeField: (body, rng) => {
    const path = choosePath(body, rng);
    setAt(body, path, randomValue(rng, kindOf(getAt(body, path))));
  },
  duplicateEntry: (body, rng) => {
    const arrays = pathsOf(body).filter((p) => Array.isArray(getAt(body, p)) && (getAt(body, p) as Json[]).length > 0);
    if (arrays.length === 0) return;
    const array = getAt(body, rng.pick(arrays)) as Json[];
    const copies = 1 + rng.int(3);
    const item = array[rng.int(array.length)];
    for (let i = 0; i < copies; i++) array.push(clone(item));
  },
  hugeString: (body, rng) => setAt(body, choosePath(body, rng), rng.pick(['x', 'é', '9', ' ']).repeat(HUGE)),
  deepNesting: (body, rng) => setAt(body, choosePath(body, rng), deepNest(rng)),
  randomKey: (body, rng) => {
    const targets = pathsOf(body).filter((p) => {
      const v = getAt(body, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v) && (p[0] === 'context' || p[0] === 'prefetch');
    });
    const target = targets.length > 0 && rng.chance(0.8) ? rng.pick(targets) : [];
    const key = rng.chance(0.5) ? rng.pick(ODD_KEYS) : randomString(rng);
    setAt(body, [...target, key], randomValue(rng));
  },
  wrongTypesEverywhere: (body, rng) => {
    for (const path of pathsOf(body)) if (rng.chance(0.05)) setAt(body, path, randomValue(rng, kindOf(getAt(body, path))));
  },
};

function choosePath(body: Json, rng: Prng): Path {
  const pool = rng.chance(0.5) ? focusPaths(body) : pathsOf(body);
  return pool.length > 0 ? rng.pick(pool) : ['hook'];
}

/** A syntactically broken body (or one that is JSON but not an object). */
function malformed(text: string, rng: Prng): string {
  switch (rng.int(7)) {
    case 0:
      return text.slice(0, rng.int(text.length));
    case 1: {
      const at = rng.int(text.length);
      return text.slice(0, at) + rng.pick(['{', '}', ',', '"', ':', '\\', '\u0000', 'NaN']) + text.slice(at);
    }
    case 2:
      return text.replace(/"/, "'");
    case 3:
      return `${text}}}`;
    case 4:
      return text.replace(/\}$/, ',}');
    case 5:
      return rng.pick(['', 'null', '[]', '42', '"order-sign"', 'true', '{', '[[[[[', '\u00ff\u00fe']);
    default:
      return `[${text}]`;
  }
}

interface Probe {
  path: string;
  /** The body as sent: a mutated request serialised, or malformed text. */
  text: string;
  mutations: string[];
}

function makeProbe(bases: FixtureCall[], rng: Prng): Probe {
  const base = rng.pick(bases);
  const body = clone(base.body) as Json;
  if (rng.chance(0.1)) return { path: base.path, text: malformed(JSON.stringify(body), rng), mutations: ['malformed'] };
  const names = Object.keys(MUTATIONS);
  const mutations = Array.from({ length: 1 + rng.int(3) }, () => rng.pick(names));
  for (const name of mutations) MUTATIONS[name](body, rng);
  let path = base.path;
  if (rng.chance(0.03)) {
    path = rng.pick(['/cds-services/unknown-service', `${base.path}x`, '/cds-services/%2e%2e', `${base.path}/feedback`]);
    mutations.push('path');
  }
  return { path, text: JSON.stringify(body), mutations };
}

const fixtureRow = readFixtureTable().find((row) => row.request === 'cnmp-trial-met')!;

let server: http.Server;
let closeApp: () => Promise<void>;

beforeAll(async () => {
  const engine = await loadPolicyEngine();
  // Rate limit off so 429 cannot mask behaviour; an empty allowlist so no mutation reaches the network.
  const security = loadSecurityConfig({ CDS_RATE_LIMIT_PER_MINUTE: '0', CDS_FHIR_ALLOWLIST: '' }, { trustClients: false, sandboxFhirPort: 8080 });
  const app = createApp({ engine, config: testConfig(), security, logger: silentLogger });
  server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeApp = () => app.closeResources();
}, 30_000);

afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
  await closeApp();
});

/** A hang would fail the run rather than stall it. */
function send(probe: Probe) {
  return request(server).post(probe.path).set('Content-Type', 'application/json').timeout({ response: 10_000 }).send(probe.text);
}

function expectedCard(res: request.Response): void {
  expect(res.status).toBe(200);
  expect(res.body.cards).toHaveLength(1);
  const evaluation = res.body.cards[0].extension['policy-evaluation'] as PolicyEvaluation;
  expect({ order: evaluation.order, pathway: evaluation.pathway, criteria: evaluation.criteria.map((c) => ({ id: c.id, status: c.status })) }).toEqual({
    order: fixtureRow.order,
    pathway: fixtureRow.pathway,
    criteria: fixtureRow.criteria,
  });
}

it('answers every unmodified fixture request with 200', async () => {
  for (const call of allFixtureCalls()) {
    const res = await request(server).post(call.path).send(call.body);
    expect({ name: call.name, status: res.status }).toEqual({ name: call.name, status: 200 });
  }
});

it(`survives ${REQUESTS} mutated requests (seed 0x${SEED.toString(16)}) with defined answers and no leaks`, async () => {
  const bases = allFixtureCalls();
  const rng = new Prng(SEED);
  const gc = forceGc();

  // Warm up (JIT, engine caches) before the first heap reading.
  for (const call of bases.slice(0, 5)) await request(server).post(call.path).send(call.body);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = Date.now();

  const statuses = new Map<number, number>();
  const unexpected: { status: number; mutations: string[]; body: string }[] = [];
  const leaks: { status: number; mutations: string[]; body: string }[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < REQUESTS) {
      // Made when sent and dropped after, so the heap reading counts what the app keeps, not the probes.
      // Each is made synchronously in turn, so probe i is the same whatever the interleaving.
      sent++;
      const probe = makeProbe(bases, rng);
      const res = await send(probe);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const summary = { status: res.status, mutations: probe.mutations, body: res.text.slice(0, 300) };
      if (!ALLOWED_STATUSES.includes(res.status)) unexpected.push(summary);
      if (LEAK_PATTERNS.some((pattern) => pattern.test(res.text)) || res.text.includes(process.cwd())) leaks.push(summary);
      // Every refusal is a clear answer: a code and a message.
      if (res.status !== 200 && !(res.body?.resourceType === 'OperationOutcome' && typeof messageOf(res.body) === 'string')) unexpected.push(summary);
      if (res.status === 200 && !Array.isArray(res.body?.cards)) unexpected.push(summary);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const durationMs = Date.now() - started;

  gc?.();
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;

  process.stdout.write(
    `fuzz: ${REQUESTS} requests in ${durationMs} ms; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ` +
      `heap delta ${(heapDelta / 1024 / 1024).toFixed(1)} MB (${gc ? 'forced GC' : 'no GC available'})\n`,
  );
  // Still serving, and still right.
  const call = fixtureCall('cnmp-trial-met');
  expectedCard(await request(server).post(call.path).send(call.body));

  expect(leaks.slice(0, 5)).toEqual([]);
  // The run exercised the valid path and the refusals, not one branch only.
  expect(statuses.get(200) ?? 0).toBeGreaterThan(REQUESTS / 10);
  expect(statuses.get(400) ?? 0).toBeGreaterThan(REQUESTS / 10);
  expect(heapDelta).toBeLessThan(gc ? HEAP_BOUND_FORCED_GC : HEAP_BOUND_NO_GC);
  expect(unexpected.slice(0, 5)).toEqual([]);
}, 120_000);

/**
 * The shapes behind the failures the fuzzer found, pinned so they stay fixed: an `id` that is a JSON
 * object whose `toString` is not a function cannot be turned into a string, so any code that builds
 * `Type/id` from it throws. A FHIR id is a string; such a resource is invalid data (skip it, or 400
 * naming the field), never a 500.
 */
describe('request data that cannot be turned into a string', () => {
  const unprintable = { toString: 'not a function' };

  const cases: { name: string; fixture: string; mutate: (body: Record<string, any>) => void; statuses: number[] }[] = [
    {
      name: 'a prefetch searchset entry whose id is an object',
      fixture: 'cnmp-trial-met',
      mutate: (body) => (body.prefetch.conditions.entry[0].resource.id = unprintable),
      statuses: [200, 400],
    },
    {
      name: 'a prefetched Patient whose id is an object',
      fixture: 'cnmp-trial-met',
      mutate: (body) => (body.prefetch.patient.id = unprintable),
      statuses: [200, 400],
    },
    {
      name: 'order-select: a draft order whose id is an object',
      fixture: 'cancer-trial-select',
      mutate: (body) => (body.context.draftOrders.entry[0].resource.id = unprintable),
      statuses: [200, 400],
    },
    {
      // A draft order's id must be a string (400 naming it); were it let through, the failure card would name the order by it.
      name: 'order-sign: a pump order whose id is an object, and an evaluation that fails',
      fixture: 'cnmp-trial-met',
      mutate: (body) => {
        body.context.draftOrders.entry[0].resource.id = unprintable;
        body.prefetch.patient.birthDate = unprintable;
      },
      statuses: [400],
    },
  ];

  it.each(cases)('$name: a defined answer, not a 500', async ({ fixture, mutate, statuses }) => {
    const call = fixtureCall(fixture);
    mutate(call.body);
    const res = await request(server).post(call.path).send(call.body);
    expect(statuses).toContain(res.status);
    if (res.status === 200) expect(Array.isArray(res.body.cards)).toBe(true);
    else expect(res.body).toEqual(outcome('invalid-request', expect.any(String)));
  });
});
