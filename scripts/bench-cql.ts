/**
 * `npm run bench:cql`: the in-process part of an order-sign call, without HTTP: the records bench:hooks sends
 * (scripts/support/hook-load.ts: the fixture patient whose implant order meets every criterion, grown to 50 and
 * to 5,000 resources that the CQL reads), prepared and evaluated through the engine as a call with a full prefetch
 * is (src/engine/call-evaluator.ts). Prints median and p95 wall and CPU time per call.
 *
 *   npm run bench:cql -- [--calls 200] [--root /path/to/other/checkout] [--only 50|5000] [--per-expression]
 *
 * `--root` evaluates the same records through another checkout's engine (its src/engine/engine.ts and build/elm;
 * run `npm run build:cql` there first) in the same process, calls alternating, and prints both: the baseline
 * beside the change in one run (it stops if the two answer differently). `--per-expression` times every CQL
 * definition and function call of one evaluation (a define's total includes what it evaluates first) to find the
 * expensive ones.
 * A script that prints figures, not a test.
 */
import path from 'node:path';
import type { FhirResource } from 'fhir/r4';
import type { PolicyEngine, DraftOrder } from '../src/engine/types';
import { hookBody, largerRecord, ms, percentile } from './support/hook-load';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const CALLS = Math.min(5000, Number(arg('calls') ?? 200));
const ROOT = arg('root');
const ONLY = arg('only');
const CALL_DATE = '2026-06-15';

interface Call {
  record: FhirResource[];
  drafts: FhirResource[];
  orders: DraftOrder[];
}

/** The record as the service reads it from the full prefetch: the Patient, then every searchset's entries. */
function callOf(size: number): Call {
  const body = hookBody(largerRecord(size));
  const record = Object.values(body.prefetch).flatMap((value) =>
    value.resourceType === 'Bundle' ? (value.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])) : [value],
  );
  const draftOrders = (body.context as { draftOrders: { entry: Array<{ resource: FhirResource }> } }).draftOrders;
  const drafts = draftOrders.entry.map((e) => e.resource);
  const orders = drafts.filter((r): r is DraftOrder => r.resourceType === 'ServiceRequest' || r.resourceType === 'DeviceRequest');
  return { record, drafts, orders };
}

/**
 * One call's in-process work with a full prefetch, as src/engine/call-evaluator.ts does it (the phase is decided
 * inside the evaluation): the draft orders, then the record, read and indexed once, then each order.
 */
/** ms the last call spent reading and indexing its draft orders and record (before any CQL). */
let lastPrepareMs = 0;

async function evaluateCall(engine: PolicyEngine, call: Call): Promise<unknown[]> {
  const results: unknown[] = [];
  const started = performance.now();
  const drafts = engine.prepareRecord([], call.drafts);
  const prepared = engine.prepareRecord(call.record, drafts);
  lastPrepareMs = performance.now() - started;
  for (const order of call.orders) {
    const result = await engine.evaluateOrder(prepared, order, { draftOrders: call.drafts, callDate: CALL_DATE });
    if (!result.evaluation) throw new Error(`bench order was not evaluated: ${result.error ?? 'no evaluation'}`);
    results.push(result);
  }
  return results;
}

async function loadEngine(root: string): Promise<PolicyEngine> {
  const module = (await import(path.join(root, 'src', 'engine', 'engine.ts'))) as { loadPolicyEngine: () => Promise<PolicyEngine> };
  return module.loadPolicyEngine();
}

interface Sample {
  wall: number[];
  cpu: number[];
  prepare: number[];
}

async function timeOne(engine: PolicyEngine, call: Call, into: Sample): Promise<void> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  await evaluateCall(engine, call);
  const used = process.cpuUsage(cpuStart);
  into.wall.push(performance.now() - start);
  into.prepare.push(lastPrepareMs);
  into.cpu.push((used.user + used.system) / 1000);
}

function summary(label: string, s: Sample): string {
  const wall = [...s.wall].sort((a, b) => a - b);
  const cpu = [...s.cpu].sort((a, b) => a - b);
  const prepare = [...s.prepare].sort((a, b) => a - b);
  return (
    `${label.padEnd(10)} median ${ms(percentile(wall, 50)).padStart(5)} ms, p95 ${ms(percentile(wall, 95)).padStart(5)} ms` +
    ` (CPU median ${ms(percentile(cpu, 50))} ms; reading and indexing the record: median ${ms(percentile(prepare, 50))} ms)`
  );
}

/**
 * Times each definition of the library once, by wrapping cql-execution's ExpressionDef.exec: the time of a define
 * includes the defines it evaluates first (nested times are also reported on their own, so sums overlap).
 */
async function perExpression(engine: PolicyEngine, call: Call): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ExpressionDef, FunctionRef } = require('cql-execution/lib/elm/reusable') as {
    ExpressionDef: { prototype: { exec(ctx: unknown): unknown; name: string } };
    FunctionRef: { prototype: { exec(ctx: unknown): unknown; name: string } };
  };
  const own = new Map<string, { total: number; calls: number; self: number }>();
  const stack: number[] = [];
  const wrap = (proto: { exec(ctx: unknown): unknown; name: string }, kind: string) => {
    const original = proto.exec;
    proto.exec = async function (this: { name: string }, ctx: unknown) {
      const started = performance.now();
      stack.push(0);
      try {
        return await original.call(this, ctx);
      } finally {
        const elapsed = performance.now() - started;
        const nested = stack.pop() as number;
        if (stack.length > 0) stack[stack.length - 1] += elapsed;
        const key = `${kind} ${this.name}`;
        const entry = own.get(key) ?? { total: 0, calls: 0, self: 0 };
        entry.total += elapsed;
        entry.self += elapsed - nested;
        entry.calls++;
        own.set(key, entry);
      }
    };
    return () => (proto.exec = original);
  };
  const restore = [wrap(ExpressionDef.prototype, 'define'), wrap(FunctionRef.prototype, 'function')];
  try {
    await evaluateCall(engine, call);
  } finally {
    for (const r of restore) r();
  }
  const rows = [...own.entries()].sort((a, b) => b[1].self - a[1].self).slice(0, 40);
  console.log('   self ms  total ms   calls  definition (one call; async nesting makes self times approximate)');
  for (const [name, e] of rows) console.log(`${e.self.toFixed(1).padStart(9)} ${e.total.toFixed(1).padStart(9)} ${String(e.calls).padStart(7)}  ${name}`);
}

async function main(): Promise<void> {
  const here = path.resolve(__dirname, '..');
  const t0 = performance.now();
  const engine = await loadEngine(here);
  console.log(`startup (packs, ELM, value sets, FHIR model): ${(performance.now() - t0).toFixed(0)} ms`);
  const baseline = ROOT ? await loadEngine(path.resolve(ROOT)) : undefined;
  for (const size of [50, 5000]) {
    if (ONLY && Number(ONLY) !== size) continue;
    const call = callOf(size);
    const calls = size > 1000 ? Math.max(20, Math.round(CALLS / 4)) : CALLS;
    if (process.argv.includes('--per-expression')) {
      await evaluateCall(engine, call);
      console.log(`-- ${size} resources: time per CQL definition (this checkout)`);
      await perExpression(engine, call);
      continue;
    }
    // Warm-up: JIT, and the lazily built parts of both engines; a faster engine must give the same answers.
    for (let i = 0; i < 10; i++) {
      const answers = JSON.stringify(await evaluateCall(engine, call));
      if (baseline && JSON.stringify(await evaluateCall(baseline, call)) !== answers) throw new Error(`${size} resources: the two checkouts answer differently`);
    }
    const mine: Sample = { wall: [], cpu: [], prepare: [] };
    const theirs: Sample = { wall: [], cpu: [], prepare: [] };
    for (let i = 0; i < calls; i++) {
      await timeOne(engine, call, mine);
      if (baseline) await timeOne(baseline, call, theirs);
    }
    console.log(`-- ${size} resources (${call.record.length} in the record), ${calls} calls${baseline ? ', alternating' : ''}`);
    console.log(summary('this', mine));
    if (baseline) console.log(summary('baseline', theirs) + `   (${ROOT})`);
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
