/**
 * One hook call from validated request to answer: pick the orders, gather the patient's record
 * (prefetch, then the EHR's FHIR server), find the patient's Coverage with this payer, evaluate each
 * order with the policy engine, and answer with cards (checklist, suggested orders) and, as a Da Vinci
 * CRD server, a Coverage Information system action per order (src/crd/).
 */
import { randomUUID } from 'node:crypto';
import type { FhirResource } from 'fhir/r4';
import type { OrderEvaluationResult, PolicyEngine, PolicyEvaluation, PreparedRecord, PumpOrder, SkippedResource } from '../engine/types';
import { buildCard, buildEvaluationFailedCard } from '../presentation/cards';
import type { FhirFetcher } from '../fhir-client/fhir-fetch';
import type { HookMetrics } from '../ops/metrics';
import { CLINICAL_REMINDER_TOPIC } from '../crd/card-types';
import { settingsFor } from '../crd/configuration';
import { buildCoverageInformation, type OrderOutcome } from '../crd/coverage-information';
import { selectCoverage } from '../crd/coverage';
import { COVERAGE_PREFETCH_KEY, patientCoverages } from '../crd/coverage-source';
import type { PayerConfig } from '../crd/payers';
import { assertionIdsOf, coverageInformationAction, isNewInformation, type SystemAction } from '../crd/system-actions';
import { HttpError, crdRuleViolation, invalid } from './errors';
import { draftOrderResources, ordersToEvaluate } from './orders';
import { gatherPatientRecord } from './prefetch';
import { fetchReferencedMedications } from './referenced-medications';
import type { LoadedService } from './service-definitions';
import type { Card, HookRequest, HookResponse, PatientRecord } from './types';
import type { EvaluationCache } from './evaluation-cache';

export interface HookCallDeps {
  engine: PolicyEngine;
  fetcher: FhirFetcher;
  /** Deadline for fetching missing prefetch, in ms (0: none beyond the per-request timeout). */
  deadlineMs: number;
  now: () => Date;
  /** Reuses evaluations of identical inputs (order-select then order-sign); default: none. */
  evaluationCache?: EvaluationCache;
  /** The payer this deployment answers for, and whether a call without its Coverage is refused (CRD hook-13). */
  crd: { payer: PayerConfig; requireCoverage: boolean };
  /** Ids of cards, suggestions and coverage assertions; default random UUIDs. */
  newId?: () => string;
  metrics?: HookMetrics;
}

/** Lets pending I/O run (new requests get their fast refusals) between long stretches of evaluation. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface HookCallResult {
  response: HookResponse;
  /** For the log line: counts and keys, no data. */
  stats: { orders: number; fetchedKeys: string[]; truncatedKeys: string[]; skippedResources: number; failedEvaluations: number };
  /** The evaluations behind the cards (for the log line's criterion counts). */
  evaluations: PolicyEvaluation[];
  /** The resources the engine read (for the call record, which keeps their references). */
  record: PatientRecord;
  /** The coverage-assertion-id of every Coverage Information action in the answer (kept with the call's record). */
  assertionIds: string[];
  /** What intake left out of the draft orders and the record (for the log line's counts by type and reason). */
  leftOut: readonly SkippedResource[];
}

function orderReference(order: PumpOrder, index: number): string {
  return order.id ? `${order.resourceType}/${order.id}` : `${order.resourceType} (draft order ${index + 1})`;
}

/** The record, or why it could not be read: a 412 of the record fetch becomes CRD resp-43's "technical" once a Coverage is known. */
type RecordRead =
  | { ok: true; record: FhirResource[]; fetchedKeys: string[]; truncatedKeys: string[] }
  | { ok: false; error: HttpError };

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
  const policy = service.pack.id;
  const settings = settingsFor(request.hook, request.extension);
  const newId = deps.newId ?? randomUUID;
  // order-sign answers always carry systemActions (the Inferno CRD test kit requires it); order-select when asked.
  const withActions = request.hook === 'order-sign' || settings.coverageInfo;
  const drafts = draftOrderResources(request);
  const candidates = ordersToEvaluate(request, drafts);
  const callStarted = Date.now();
  const signals = [...(signal ? [signal] : []), ...(fetchDeadlineMs > 0 ? [AbortSignal.timeout(fetchDeadlineMs)] : [])];
  const deadline = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  // A draft order may name its drug by reference to a separate Medication, which the phase may depend on: read those first.
  const draftMedications = candidates.length > 0 ? await fetchReferencedMedications(request, deps.fetcher, drafts, drafts, deadline) : [];
  // The draft orders are read (intake) once for the call. Which orders the policy governs follows from them alone:
  // the record is fetched only when one is.
  const draftsOnly = deps.engine.prepareRecord(draftMedications, drafts);
  const phases = await Promise.all(candidates.map((order) => deps.engine.orderPhase(order, { record: draftsOnly, policy })));
  // An order with elements that could not be read may be one the policy governs: it is answered as a failed check
  // (a card that says so), never left out silently.
  const unreadable = new Map(
    candidates.flatMap((order, i) => {
      const leftOut = phases[i] === null ? draftsOnly.leftOutOf(order) : [];
      return leftOut.length > 0 ? [[order, `parts of the order could not be read (${[...new Set(leftOut.map((l) => l.path ?? 'the whole order'))].join(', ')})`] as const] : [];
    }),
  );
  const orders = candidates.filter((order, i) => phases[i] !== null || unreadable.has(order));
  if (orders.length === 0) {
    return {
      response: { cards: [], ...(withActions && { systemActions: [] }) },
      stats: { orders: 0, fetchedKeys: [], truncatedKeys: [], skippedResources: draftsOnly.leftOut.length, failedEvaluations: 0 },
      evaluations: [],
      record: [],
      assertionIds: [],
      leftOut: draftsOnly.leftOut,
    };
  }
  if (settings.coverageInfo) {
    // CRD found-36: context resources have ids; the system action updates the order by its id.
    const unnamed = orders.findIndex((o) => typeof o.id !== 'string' || o.id === '');
    if (unnamed >= 0) {
      throw crdRuleViolation(`context.draftOrders: ${orders[unnamed].resourceType} without id (CRD requires an id on every draft order)`);
    }
  }

  // Paging through search results ends in time for the deadline, keeping what was read (the card says so).
  const pageUntil = fetchDeadlineMs > 0 ? callStarted + fetchDeadlineMs : undefined;
  const read: RecordRead = await gatherPatientRecord(service, request, deps.fetcher, deadline, deps.metrics, pageUntil)
    .then(async (gathered) => {
      // The record's own Medications by reference, in one search for all of them.
      const known = [...gathered.record, ...draftMedications];
      const recordMedications = await fetchReferencedMedications(request, deps.fetcher, gathered.record, known, deadline);
      if (draftMedications.length + recordMedications.length > 0) gathered.fetchedKeys.push('Medication (by reference)');
      return { ok: true as const, ...gathered, record: [...known, ...recordMedications] };
    })
    .catch((error: unknown) => {
      if (error instanceof HttpError && error.status === 412) return { ok: false as const, error };
      throw error;
    });

  const callDate = deps.now().toISOString().slice(0, 10);
  const coverages = await patientCoverages(request, {
    record: read.ok ? read.record : null,
    recordHasCoverageKey: service.templates.has(COVERAGE_PREFETCH_KEY),
    fetcher: deps.fetcher,
    signal: deadline,
  });
  const coverage = selectCoverage(coverages, deps.crd.payer, request.context.patientId, callDate);
  if (coverage.kind !== 'found') {
    // Without a Coverage there is no assertion to make: an unreadable record is then the CDS Hooks 412.
    if (!read.ok) throw read.error;
    if (deps.crd.requireCoverage) throw invalid(coverage.message);
  }

  // Read and indexed once for every order of the call (when an order is not answered from the evaluation cache).
  let prepared: PreparedRecord | undefined;
  const preparedRecord = (): PreparedRecord => (prepared ??= deps.engine.prepareRecord(read.ok ? read.record : [], draftsOnly));
  const results: OrderEvaluationResult[] = [];
  for (const order of orders) {
    if (!read.ok) break;
    // One order at a time, letting waiting requests in between (their refusals need not wait for us).
    await yieldToEventLoop();
    signal?.throwIfAborted();
    const reason = unreadable.get(order);
    if (reason) {
      results.push({ evaluation: null, skipped: [], error: reason });
      continue;
    }
    const started = performance.now();
    const options = { draftOrders: drafts, callDate, policy };
    const result = await (deps.evaluationCache
      ? deps.evaluationCache.evaluate(deps.engine, read.record, order, options, preparedRecord)
      : deps.engine.evaluateOrder(preparedRecord(), order, options));
    deps.metrics?.evaluation((performance.now() - started) / 1000, result.error ? 'error' : 'ok');
    if (result.evaluation) deps.metrics?.criteria(result.evaluation.criteria);
    results.push(result);
  }
  if (!read.ok) results.push(...orders.map(() => ({ evaluation: null, skipped: [], error: 'record unreadable' })));
  // What intake left out (a result answered from the cache carries the list of the call it was computed in).
  const leftOut = prepared?.leftOut ?? results.find((r) => r.skipped.length > 0)?.skipped ?? draftsOnly.leftOut;

  const cardContext = {
    hook: request.hook,
    pack: service.pack,
    insurer: deps.crd.payer.insurer,
    userId: request.context.userId,
    encounterId: request.context.encounterId,
    policyPageUrl,
    patientId: request.context.patientId,
    callDate,
    partialKeys: read.ok ? read.truncatedKeys : [],
    leftOutCount: leftOut.length,
    newId,
  };
  const cardOptions = { suggestions: settings.cardTypes[CLINICAL_REMINDER_TOPIC.code as string] };
  const cards = results
    .flatMap((result, i): Card[] => {
      if (result.evaluation) return [buildCard(result.evaluation, { ...cardContext, ...result.dates }, cardOptions)];
      if (result.error) return [buildEvaluationFailedCard(orderReference(orders[i], drafts.indexOf(orders[i])), cardContext, unreadable.get(orders[i]))];
      return [];
    })
    // CRD dev-5: a client can switch each card type off; then max-cards, in order.
    .filter((card) => settings.cardTypes[card.source.topic?.code as string] !== false)
    .slice(0, settings.maxCards);

  const systemActions: SystemAction[] = [];
  if (settings.coverageInfo && coverage.kind === 'found') {
    results.forEach((result, i) => {
      const outcome: OrderOutcome | null = result.evaluation
        ? { evaluation: result.evaluation }
        : result.error
          ? { failure: read.ok ? 'the evaluation failed' : "the patient's record could not be read from the EHR" }
          : null;
      if (!outcome) return;
      const extension = buildCoverageInformation(outcome, {
        hook: request.hook,
        pack: service.pack,
        payer: deps.crd.payer,
        coverageReference: coverage.reference,
        callDate,
        policyPageUrl,
        newAssertionId: newId,
      });
      if (isNewInformation(orders[i], extension)) systemActions.push(coverageInformationAction(orders[i], extension));
    });
  }

  const skippedResources = leftOut.length;
  const failedEvaluations = results.filter((r) => r.error !== undefined).length;
  return {
    response: { cards, ...(withActions && { systemActions }) },
    stats: {
      orders: orders.length,
      fetchedKeys: read.ok ? read.fetchedKeys : [],
      truncatedKeys: read.ok ? read.truncatedKeys : [],
      skippedResources,
      failedEvaluations,
    },
    evaluations: results.flatMap((r) => (r.evaluation ? [r.evaluation] : [])),
    record: read.ok ? read.record : [],
    assertionIds: assertionIdsOf(systemActions),
    leftOut,
  };
}
