/**
 * One hook call from validated request to cards: pick the orders, gather the patient's record
 * (prefetch, then the EHR's FHIR server), evaluate each order with the policy engine, render
 * a card for each order the policy governs.
 */
import type { PolicyEngine, PolicyEvaluation, PumpOrder, SkippedResource } from '../engine/types';
import { buildCard, buildEvaluationFailedCard } from '../presentation/cards';
import type { FhirFetcher } from '../fhir-client/fhir-fetch';
import type { HookMetrics } from '../ops/metrics';
import { draftOrderResources, ordersToEvaluate } from './orders';
import { gatherPatientRecord } from './prefetch';
import { fetchReferencedMedications } from './referenced-medications';
import type { LoadedService } from './service-definitions';
import type { Card, HookRequest, HookResponse } from './types';

export interface HookCallDeps {
  engine: PolicyEngine;
  fetcher: FhirFetcher;
  /** Deadline for fetching missing prefetch, in ms (0: none beyond the per-request timeout). */
  deadlineMs: number;
  now: () => Date;
  metrics?: HookMetrics;
}

export interface HookCallResult {
  response: HookResponse;
  /** For the log line: counts and keys, no data. */
  stats: { orders: number; fetchedKeys: string[]; truncatedKeys: string[]; skippedResources: number; failedEvaluations: number };
  /** The evaluations behind the cards (for the log line's criterion counts). */
  evaluations: PolicyEvaluation[];
  /** What intake left out of the draft orders and the record (for the log line's counts by type and reason). */
  leftOut: readonly SkippedResource[];
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
): Promise<HookCallResult> {
  const policy = service.pack.id;
  const drafts = draftOrderResources(request);
  const candidates = ordersToEvaluate(request, drafts);
  const callStarted = Date.now();
  const signals = [...(signal ? [signal] : []), ...(deps.deadlineMs > 0 ? [AbortSignal.timeout(deps.deadlineMs)] : [])];
  const deadline = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  // A draft order may name its drug by reference to a separate Medication, which the phase may depend on: read those first.
  const draftMedications = candidates.length > 0 ? await fetchReferencedMedications(request, deps.fetcher, drafts, drafts, deadline) : [];
  // Which orders the policy governs follows from the orders alone: the record is fetched only when one is.
  const draftsOnly = deps.engine.prepareRecord(draftMedications, drafts);
  const phases = await Promise.all(candidates.map((order) => deps.engine.orderPhase(order, { record: draftsOnly, policy })));
  const orders = candidates.filter((_, i) => phases[i] !== null);
  // An order with elements that could not be read may be one the policy governs: say so rather than stay silent.
  const unreadable = candidates.filter((order, i) => phases[i] === null && draftsOnly.leftOutOf(order).length > 0);
  const unreadableCards = (): Card[] =>
    unreadable.map((order) => {
      const paths = [...new Set(draftsOnly.leftOutOf(order).map((l) => l.path ?? 'the whole order'))];
      return buildEvaluationFailedCard(orderReference(order, drafts.indexOf(order)), { pack: service.pack, policyPageUrl }, `parts of the order could not be read (${paths.join(', ')})`);
    });
  if (orders.length === 0) {
    return {
      response: { cards: unreadableCards() },
      stats: { orders: 0, fetchedKeys: [], truncatedKeys: [], skippedResources: draftsOnly.leftOut.length, failedEvaluations: unreadable.length },
      evaluations: [],
      leftOut: draftsOnly.leftOut,
    };
  }

  // Paging through search results ends in time for the deadline, keeping what was read (the card says so).
  const pageUntil = deps.deadlineMs > 0 ? callStarted + deps.deadlineMs : undefined;
  const { record, fetchedKeys, truncatedKeys } = await gatherPatientRecord(service, request, deps.fetcher, deadline, deps.metrics, pageUntil);
  // The record's own Medications by reference, in one search for all of them.
  const known = [...record, ...draftMedications];
  const recordMedications = await fetchReferencedMedications(request, deps.fetcher, record, known, deadline);
  if (draftMedications.length + recordMedications.length > 0) fetchedKeys.push('Medication (by reference)');

  const callDate = deps.now().toISOString().slice(0, 10);
  // Read and indexed once for every order of the call.
  const prepared = deps.engine.prepareRecord([...known, ...recordMedications], draftsOnly);
  const results = await Promise.all(
    orders.map(async (order) => {
      const started = performance.now();
      const result = await deps.engine.evaluateOrder(prepared, order, { callDate, policy });
      deps.metrics?.evaluation((performance.now() - started) / 1000, result.error ? 'error' : 'ok');
      if (result.evaluation) deps.metrics?.criteria(result.evaluation.criteria);
      return result;
    }),
  );

  const leftOutCount = prepared.leftOut.length;
  const cardContext = { hook: request.hook, pack: service.pack, policyPageUrl, patientId: request.context.patientId, callDate, partialKeys: truncatedKeys, leftOutCount };
  const cards = results.flatMap((result, i): Card[] => {
    if (result.evaluation) return [buildCard(result.evaluation, cardContext)];
    if (result.error) return [buildEvaluationFailedCard(orderReference(orders[i], drafts.indexOf(orders[i])), cardContext)];
    return [];
  });
  cards.push(...unreadableCards());
  const failedEvaluations = results.filter((r) => r.error !== undefined).length + unreadable.length;
  return {
    response: { cards },
    stats: { orders: orders.length, fetchedKeys, truncatedKeys, skippedResources: leftOutCount, failedEvaluations },
    evaluations: results.flatMap((r) => (r.evaluation ? [r.evaluation] : [])),
    leftOut: prepared.leftOut,
  };
}
