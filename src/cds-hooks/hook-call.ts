/**
 * One hook call from validated request to cards: pick the orders, gather the patient's record
 * (prefetch, then the EHR's FHIR server), evaluate each order with the policy engine, render
 * a card for each order the policy governs.
 */
import type { PolicyEngine, PolicyEvaluation, PumpOrder } from '../engine/types';
import { buildCard, buildEvaluationFailedCard } from '../presentation/cards';
import type { FhirFetcher } from '../fhir-client/fhir-fetch';
import { draftOrderResources, ordersToEvaluate } from './orders';
import { gatherPatientRecord } from './prefetch';
import type { LoadedService } from './service-definitions';
import type { Card, HookRequest, HookResponse } from './types';
import type { EvaluationCache } from './evaluation-cache';

export interface HookCallDeps {
  engine: PolicyEngine;
  fetcher: FhirFetcher;
  requireTrialAgent: boolean;
  /** Deadline for fetching missing prefetch, in ms (0: none beyond the per-request timeout). */
  deadlineMs: number;
  now: () => Date;
  /** Reuses evaluations of identical inputs (order-select then order-sign); default: none. */
  evaluationCache?: EvaluationCache;
}

/** Lets pending I/O run (new requests get their fast refusals) between long stretches of evaluation. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface HookCallResult {
  response: HookResponse;
  /** For the log line: counts and keys, no data. */
  stats: { orders: number; fetchedKeys: string[]; truncatedKeys: string[]; skippedResources: number; failedEvaluations: number };
  /** The evaluations behind the cards (for the log line's criterion counts). */
  evaluations: PolicyEvaluation[];
}

function orderReference(order: PumpOrder, index: number): string {
  return order.id ? `${order.resourceType}/${order.id}` : `${order.resourceType} (draft order ${index + 1})`;
}

export async function runHookCall(
  deps: HookCallDeps,
  service: LoadedService,
  request: HookRequest,
  policyPageUrl: string,
  /** Aborts fetching from outside (e.g. a whole-call deadline kept by the caller). */
  signal?: AbortSignal,
  /** Deadline for fetching missing prefetch, in ms from now; default deps.deadlineMs. */
  fetchDeadlineMs: number = deps.deadlineMs,
): Promise<HookCallResult> {
  const drafts = draftOrderResources(request);
  const candidates = ordersToEvaluate(request, drafts);
  // Which orders the policy governs follows from the orders alone: the record is fetched only when one is.
  const phases = await Promise.all(
    candidates.map((order) => deps.engine.orderPhase(order, { draftOrders: drafts, requireTrialAgent: deps.requireTrialAgent })),
  );
  const orders = candidates.filter((_, i) => phases[i] !== null);
  if (orders.length === 0) {
    return {
      response: { cards: [] },
      stats: { orders: 0, fetchedKeys: [], truncatedKeys: [], skippedResources: 0, failedEvaluations: 0 },
      evaluations: [],
    };
  }

  const signals = [...(signal ? [signal] : []), ...(fetchDeadlineMs > 0 ? [AbortSignal.timeout(fetchDeadlineMs)] : [])];
  const deadline = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const { record, fetchedKeys, truncatedKeys } = await gatherPatientRecord(service, request, deps.fetcher, deadline);

  const callDate = deps.now().toISOString().slice(0, 10);
  const results = [];
  for (const order of orders) {
    await yieldToEventLoop();
    signal?.throwIfAborted();
    const options = { draftOrders: drafts, callDate, requireTrialAgent: deps.requireTrialAgent };
    results.push(
      await (deps.evaluationCache
        ? deps.evaluationCache.evaluate(deps.engine, record, order, options)
        : deps.engine.evaluateOrder(record, order, options)),
    );
  }

  const cardContext = { hook: request.hook, policyPageUrl, patientId: request.context.patientId, callDate, partialKeys: truncatedKeys };
  const cards = results.flatMap((result, i): Card[] => {
    if (result.evaluation) return [buildCard(result.evaluation, cardContext)];
    if (result.error) return [buildEvaluationFailedCard(orderReference(orders[i], i), cardContext)];
    return [];
  });
  const skippedResources = results.reduce((n, r) => n + r.skipped.length, 0);
  const failedEvaluations = results.filter((r) => r.error !== undefined).length;
  return {
    response: { cards },
    stats: { orders: orders.length, fetchedKeys, truncatedKeys, skippedResources, failedEvaluations },
    evaluations: results.flatMap((r) => (r.evaluation ? [r.evaluation] : [])),
  };
}
