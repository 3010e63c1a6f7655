import type { Resource } from 'fhir/r4';
import type { OrderOutcome } from '../engine/call-evaluator';
import { createEvaluationCache, type CallInputs } from './evaluation-cache';

const order = () => ({ resourceType: 'ServiceRequest', id: 'pump-1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } });
const inputs = (): CallInputs & { record: Resource[]; drafts: unknown[] } => ({
  policy: '2022T0626C',
  drafts: [order()],
  record: [{ resourceType: 'Patient', id: 'p1' }, { resourceType: 'Condition', id: 'c1' } as Resource],
  callDate: '2026-12-07',
});
/** The outcome names the order, so a wrong hit would show. */
const outcome = (name = 'ServiceRequest/pump-1', error?: string): OrderOutcome => ({
  screening: { phase: 'implant', unreadable: [] },
  result: error
    ? { evaluation: null, skipped: [], error }
    : { evaluation: { policy: '2022T0626C', order: name, code: { system: 's', code: 'c' }, phase: 'implant', pathway: 'undetermined', criteria: [] }, skipped: [] },
});
const evaluator = {};

it('answers the same inputs a second time (order-select, then order-sign), as equal objects parsed anew', () => {
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  cache.forCall(evaluator, inputs()).set(order(), outcome());
  expect(cache.forCall(evaluator, inputs()).get(order())).toEqual(outcome());
});

it.each<[string, (i: ReturnType<typeof inputs>, o: Record<string, unknown>) => void]>([
  ['a resource added to the record', (i) => void i.record.push({ resourceType: 'Observation', id: 'o1' } as Resource)],
  ['a resource of the record changed', (i) => void ((i.record[1] as { id: string }).id = 'c2')],
  ['the order changed', (_i, o) => void (o.status = 'active')],
  ['another call date', (i) => void (i.callDate = '2026-12-08')],
  ['another policy pack', (i) => void (i.policy = 'toy-pack')],
  ['another draft order beside it', (i) => void i.drafts.push({ resourceType: 'MedicationRequest', id: 'm1' })],
])('misses when the inputs differ: %s', (_name, change) => {
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  cache.forCall(evaluator, inputs()).set(order(), outcome());
  const [i, o] = [inputs(), order() as Record<string, unknown>];
  change(i, o);
  expect(cache.forCall(evaluator, i).get(o)).toBeUndefined();
});

it('does not share entries between two evaluators (other packs loaded)', () => {
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  cache.forCall(evaluator, inputs()).set(order(), outcome());
  expect(cache.forCall({}, inputs()).get(order())).toBeUndefined();
});

it('keeps each order of a call apart', () => {
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  const other = { ...order(), id: 'pump-2' };
  const entries = cache.forCall(evaluator, inputs());
  entries.set(order(), outcome('ServiceRequest/pump-1'));
  entries.set(other, outcome('ServiceRequest/pump-2'));
  expect(cache.forCall(evaluator, inputs()).get(other)?.result?.evaluation?.order).toBe('ServiceRequest/pump-2');
});

it('keeps no failed evaluation', () => {
  const cache = createEvaluationCache({ maxEntries: 10, ttlSeconds: 60 });
  cache.forCall(evaluator, inputs()).set(order(), outcome(undefined, 'boom'));
  expect(cache.forCall(evaluator, inputs()).get(order())).toBeUndefined();
  expect(cache.size).toBe(0);
});

it('is bounded in entries and in age', async () => {
  const cache = createEvaluationCache({ maxEntries: 2, ttlSeconds: 1 });
  for (const callDate of ['2026-12-01', '2026-12-02', '2026-12-03']) cache.forCall(evaluator, { ...inputs(), callDate }).set(order(), outcome());
  expect(cache.size).toBe(2);
  // The oldest was dropped for the third.
  expect(cache.forCall(evaluator, { ...inputs(), callDate: '2026-12-01' }).get(order())).toBeUndefined();
  expect(cache.forCall(evaluator, { ...inputs(), callDate: '2026-12-03' }).get(order())).toBeDefined();
  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect(cache.forCall(evaluator, { ...inputs(), callDate: '2026-12-03' }).get(order())).toBeUndefined();
});

it('keeps nothing when turned off (0 entries)', () => {
  const cache = createEvaluationCache({ maxEntries: 0, ttlSeconds: 60 });
  cache.forCall(evaluator, inputs()).set(order(), outcome());
  expect(cache.forCall(evaluator, inputs()).get(order())).toBeUndefined();
});
