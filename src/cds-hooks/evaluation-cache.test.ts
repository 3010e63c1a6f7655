import type { Resource } from 'fhir/r4';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, Phase, PolicyEngine, PreparedRecord, PumpOrder } from '../engine/types';
import { createEvaluationCache } from './evaluation-cache';

/** Counts evaluations; the result names the order, so a wrong hit would show. */
class CountingEngine implements PolicyEngine {
  calls = 0;
  fail = false;
  prepareRecord(): PreparedRecord {
    return { leftOut: [], leftOutOf: () => [] };
  }
  async evaluateOrder(_record: PatientData, order: PumpOrder): Promise<OrderEvaluationResult> {
    this.calls++;
    if (this.fail) return { evaluation: null, skipped: [], error: 'boom' };
    return {
      evaluation: { policy: '2022T0626C', order: `${order.resourceType}/${order.id}`, code: { system: 's', code: 'c' }, phase: 'implant', pathway: 'undetermined', criteria: [] },
      skipped: [],
    };
  }
  async orderPhase(): Promise<Phase | null> {
    return 'implant';
  }
}

const order = (): PumpOrder => ({ resourceType: 'ServiceRequest', id: 'pump-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } });
const record = (): Resource[] => [
  { resourceType: 'Patient', id: 'p1' },
  { resourceType: 'Condition', id: 'c1' } as Resource,
];
const options = (): EvaluateOptions => ({ draftOrders: [order()], callDate: '2026-12-07', policy: '2022T0626C' });

it('answers the same inputs a second time (order-select, then order-sign) without evaluating again', async () => {
  const engine = new CountingEngine();
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  const first = await cache.evaluate(engine, record(), order(), options());
  // Equal inputs as new objects, as the next call's parsed body gives them.
  const second = await cache.evaluate(engine, record(), order(), options());
  expect(engine.calls).toBe(1);
  expect(second).toEqual(first);
});

it.each<[string, (r: Resource[], o: PumpOrder, opt: EvaluateOptions) => void]>([
  ['a resource added to the record', (r) => void r.push({ resourceType: 'Observation', id: 'o1' } as Resource)],
  ['a resource of the record changed', (r) => void ((r[1] as { id: string }).id = 'c2')],
  ['the order changed', (_r, o) => void ((o as { status: string }).status = 'active')],
  ['another call date', (_r, _o, opt) => void (opt.callDate = '2026-12-08')],
  ['another policy pack', (_r, _o, opt) => void (opt.policy = 'toy-pack')],
  ['another draft order beside it', (_r, _o, opt) => void opt.draftOrders?.push({ resourceType: 'MedicationRequest', id: 'm1' } as Resource)],
  ['an evaluation date given', (_r, _o, opt) => void (opt.orderDate = '2026-01-01')],
])('evaluates again when the inputs differ: %s', async (_name, change) => {
  const engine = new CountingEngine();
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  await cache.evaluate(engine, record(), order(), options());
  const [r, o, opt] = [record(), order(), options()];
  change(r, o, opt);
  await cache.evaluate(engine, r, o, opt);
  expect(engine.calls).toBe(2);
});

it('does not share entries between two engines (two packs)', async () => {
  const a = new CountingEngine();
  const b = new CountingEngine();
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  await cache.evaluate(a, record(), order(), options());
  await cache.evaluate(b, record(), order(), options());
  expect([a.calls, b.calls]).toEqual([1, 1]);
});

it('keeps no failed evaluation', async () => {
  const engine = new CountingEngine();
  engine.fail = true;
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  await cache.evaluate(engine, record(), order(), options());
  await cache.evaluate(engine, record(), order(), options());
  expect(engine.calls).toBe(2);
  expect(cache.size).toBe(0);
});

it('is bounded in entries and in age', async () => {
  const engine = new CountingEngine();
  const cache = createEvaluationCache({ maxEntries: 2, ttlSeconds: 1 });
  for (const date of ['2026-12-01', '2026-12-02', '2026-12-03']) await cache.evaluate(engine, record(), order(), { ...options(), callDate: date });
  expect(cache.size).toBe(2);
  // The oldest was dropped for the third.
  await cache.evaluate(engine, record(), order(), { ...options(), callDate: '2026-12-01' });
  expect(engine.calls).toBe(4);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await cache.evaluate(engine, record(), order(), { ...options(), callDate: '2026-12-03' });
  expect(engine.calls).toBe(5);
});

it('evaluates every time when turned off (0 entries)', async () => {
  const engine = new CountingEngine();
  const cache = createEvaluationCache({ maxEntries: 0, ttlSeconds: 60 });
  await cache.evaluate(engine, record(), order(), options());
  await cache.evaluate(engine, record(), order(), options());
  expect(engine.calls).toBe(2);
});
