/**
 * Admission control through HTTP: with every slot taken by slow evaluations, further hook calls are
 * refused at once with 503 and Retry-After, before their body is read, while discovery and
 * health stay answered; the budget counts from arrival, so a call that queued is not given a
 * fresh 4.5 s when its turn comes.
 */
import type { DraftOrder } from '../../src/engine/types';
import { listen, type ListeningApp } from '../security/support/http';
import { defaultEvaluation, makeApp, RecordingEngine, SIGN, signRequest, testConfig } from './helpers';

/** An engine whose evaluations wait until released, holding their slot meanwhile. */
class SlowEngine extends RecordingEngine {
  private waiting: Array<() => void> = [];
  constructor() {
    super((order: DraftOrder) => defaultEvaluation(order));
  }
  override async evaluateOrder(...args: Parameters<RecordingEngine['evaluateOrder']>) {
    await new Promise<void>((resolve) => this.waiting.push(resolve));
    return super.evaluateOrder(...args);
  }
  get pending() {
    return this.waiting.length;
  }
  releaseAll() {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

let service: ListeningApp;
let engine: SlowEngine;

beforeEach(async () => {
  engine = new SlowEngine();
  service = await listen(makeApp(engine, { config: testConfig({ admission: { maxInFlight: 2, maxQueueMs: 0 }, hookDeadlineMs: 3000 }) }));
});
afterEach(async () => {
  engine.releaseAll();
  await service.close();
});

const post = (body: unknown) =>
  fetch(`${service.baseUrl}${SIGN}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

it('refuses calls beyond capacity at once with 503 and Retry-After, then serves again when slots free', async () => {
  const running = [post(signRequest()), post(signRequest())];
  await until(() => engine.pending === 2);

  const started = performance.now();
  const refused = await post(signRequest());
  const refusedMs = performance.now() - started;
  expect(refused.status).toBe(503);
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(await refused.json()).toMatchObject({ error: 'overloaded', retryAfterMs: expect.any(Number) });
  expect(refusedMs).toBeLessThan(1000);

  // Discovery and probes are not hook calls: they pass the gate.
  expect((await fetch(`${service.baseUrl}/cds-services`)).status).toBe(200);
  expect((await fetch(`${service.baseUrl}/health`)).status).toBe(200);

  engine.releaseAll();
  expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
  const again = post(signRequest());
  await until(() => engine.pending === 1);
  engine.releaseAll();
  expect((await again).status).toBe(200);
});

it('refuses a body that is not valid JSON only after admission, and frees the slot', async () => {
  const bad = await fetch(`${service.baseUrl}${SIGN}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{' });
  expect(bad.status).toBe(400);
  const running = [post(signRequest()), post(signRequest())];
  await until(() => engine.pending === 2);
  engine.releaseAll();
  expect((await Promise.all(running)).map((r) => r.status)).toEqual([200, 200]);
});

it('answers 503 at the deadline counted from arrival, not from when the handler ran', async () => {
  await service.close();
  engine = new SlowEngine();
  service = await listen(makeApp(engine, { config: testConfig({ admission: { maxInFlight: 1, maxQueueMs: 2000 }, hookDeadlineMs: 1500 }) }));
  const first = post(signRequest());
  await until(() => engine.pending === 1);
  const started = performance.now();
  const queued = post(signRequest());
  // The first call holds its slot for 1 s; the queued one then has about 0.5 s of its budget left.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  engine.releaseAll();
  expect((await first).status).toBe(200);
  const answer = await queued;
  const tookMs = performance.now() - started;
  expect(answer.status).toBe(503);
  expect(tookMs).toBeLessThan(1500 + 400);
});
