/**
 * The evaluation threads against the same engine on this thread: the same answers for real fixture records, a
 * call past its deadline stops its thread (which is replaced and serves the next call), and a queued call past
 * its deadline never runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';
import { inProcessEvaluator, type CallEvaluator, type CallOrders } from './call-evaluator';
import { loadPolicyEngine } from './engine';
import { EvaluationThreads } from './evaluation-threads';

const FIXTURES = path.resolve(__dirname, '..', '..', 'fixtures');
const resourcesOf = (file: string): FhirResource[] =>
  ((JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8')) as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));

/** Every fixture request with the record of its patient. */
function fixtureCalls(): Array<{ name: string; call: CallOrders & { record: FhirResource[]; callDate: string } }> {
  return fs
    .readdirSync(path.join(FIXTURES, 'requests'))
    .filter((f) => f.endsWith('.json'))
    .flatMap((file) => {
      const request = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'requests', file), 'utf8'));
      const patientFile = `itp-${file}`;
      if (!fs.existsSync(path.join(FIXTURES, 'patients', patientFile))) return [];
      const drafts = (request.context.draftOrders.entry ?? []).map((e: { resource: FhirResource }) => e.resource) as FhirResource[];
      const orders = drafts.flatMap((r, i) => (r.resourceType === 'ServiceRequest' || r.resourceType === 'DeviceRequest' ? [i] : []));
      return [{ name: file, call: { policy: '2022T0626C', drafts, orders, draftMedications: [], record: resourcesOf(`patients/${patientFile}`), callDate: '2026-06-15' } }];
    });
}

let threads: EvaluationThreads;
let local: CallEvaluator;
const replaced: string[] = [];

beforeAll(async () => {
  threads = await EvaluationThreads.start({ threads: 1, maxHeapMb: 256, onReplaced: (reason) => replaced.push(reason) });
  local = inProcessEvaluator(await loadPolicyEngine());
}, 60_000);
afterAll(() => threads.close());

it('answers every fixture call as the engine on this thread does, screening and evaluation', async () => {
  const calls = fixtureCalls();
  expect(calls.length).toBeGreaterThan(5);
  for (const { call } of calls) {
    expect(await threads.screen(call)).toEqual(await local.screen(call));
    expect(stripTimes(await threads.evaluate(call))).toEqual(stripTimes(await local.evaluate(call)));
  }
  const governed = (await Promise.all(calls.map(({ call }) => threads.evaluate(call)))).flatMap((e) => e.orders.filter((o) => o.result?.evaluation));
  expect(governed.length).toBeGreaterThan(5);
}, 60_000);

it('stops a call that outlives its deadline, replaces its thread, and serves the next call', async () => {
  const { call } = fixtureCalls()[0];
  // A record big enough that its evaluation is still running when the deadline passes.
  const big = { ...call, record: Array.from({ length: 40 }, (_, i) => call.record.map((r) => ({ ...r, id: `${r.id}-${i}` }))).flat() };
  await expect(threads.evaluate(big, AbortSignal.timeout(1))).rejects.toThrow(/timeout|abort/i);
  expect(replaced).toEqual(['a call ran past its deadline']);
  expect(stripTimes(await threads.evaluate(call))).toEqual(stripTimes(await local.evaluate(call)));
}, 60_000);

it('drops a queued call whose deadline passes before a thread is free', async () => {
  const { call } = fixtureCalls()[0];
  const running = threads.evaluate(call);
  const controller = new AbortController();
  const queued = threads.evaluate(call, controller.signal);
  controller.abort(new Error('deadline'));
  await expect(queued).rejects.toThrow('deadline');
  await expect(running).resolves.toBeDefined();
  expect(threads.size).toBe(1);
});

/** Evaluation times differ between runs. */
function stripTimes<T extends { orders: Array<{ ms?: number }> }>(evaluation: T): T {
  return { ...evaluation, orders: evaluation.orders.map(({ ms: _ms, ...rest }) => rest) };
}

it('fails only the call whose record outgrows the thread heap, and replaces the thread', async () => {
  const reasons: string[] = [];
  const small = await EvaluationThreads.start({ threads: 1, maxHeapMb: 48, onReplaced: (reason) => reasons.push(reason) });
  try {
    const { call } = fixtureCalls()[0];
    const huge = { ...call, record: Array.from({ length: 2000 }, (_, i) => call.record.map((r) => ({ ...r, id: `${r.id}-${i}` }))).flat() };
    await expect(small.evaluate(huge)).rejects.toThrow('the evaluation thread stopped during the evaluation');
    expect(reasons).toEqual([expect.stringMatching(/^an evaluation thread stopped/)]);
    // The replacement serves the next call.
    expect(stripTimes(await small.evaluate(call))).toEqual(stripTimes(await local.evaluate(call)));
  } finally {
    await small.close();
  }
}, 60_000);
