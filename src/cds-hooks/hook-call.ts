/**
 * One hook call from validated request to answer: pick the orders, gather the patient's record
 * (prefetch, then the EHR's FHIR server), find the patient's Coverage with this payer, evaluate each
 * order with the policy engine, and answer with cards (checklist, suggested orders) and, as a Da Vinci
 * CRD server, a Coverage Information system action per order (src/crd/).
 */
import { randomUUID } from 'node:crypto';
import type { FhirResource } from 'fhir/r4';
import { EvaluationStopped, type CallEvaluation, type CallEvaluator, type CallOrders, type OrderOutcome, type OrderScreening } from '../engine/call-evaluator';
import type { OrderEvaluationResult, PolicyEvaluation, DraftOrder, SkippedResource } from '../engine/types';
import { buildCard, buildEvaluationFailedCard } from '../presentation/cards';
import type { FhirFetcher } from '../fhir-client/fhir-fetch';
import type { HookMetrics } from '../ops/metrics';
import { CLINICAL_REMINDER_TOPIC } from '../crd/card-types';
import { settingsFor } from '../crd/configuration';
import { buildCoverageInformation, type OrderOutcome as CoverageOutcome } from '../crd/coverage-information';
import { selectCoverage } from '../crd/coverage';
import { COVERAGE_PREFETCH_KEY, patientCoverages } from '../crd/coverage-source';
import type { PayerConfig } from '../crd/payers';
import { assertionIdsOf, coverageInformationAction, isNewInformation, type SystemAction } from '../crd/system-actions';
import { HttpError, crdRuleViolation, invalid } from './errors';
import { draftOrderResources, ordersToEvaluate } from './orders';
import { gatherPatientRecord, prefetchComplete } from './prefetch';
import { fetchReferencedMedications } from './referenced-medications';
import type { LoadedService } from './service-definitions';
import type { Card, HookRequest, HookResponse, PatientRecord } from './types';
import type { EvaluationCache } from './evaluation-cache';

export interface HookCallDeps {
  /** Decides and evaluates the orders (in worker threads, or in this thread: src/engine/call-evaluator.ts). */
  evaluator: CallEvaluator;
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

function orderReference(order: DraftOrder, index: number): string {
  return order.id ? `${order.resourceType}/${order.id}` : `${order.resourceType} (draft order ${index + 1})`;
}

/** The record, or why it could not be read: a 412 of the record fetch becomes CRD resp-43's "technical" once a Coverage is known. */
type RecordRead =
  | { ok: true; record: FhirResource[]; fetchedKeys: string[]; truncatedKeys: string[] }
  | { ok: false; error: HttpError };

/** An order the policy governs, one that may be (parts of it could not be read), or one whose evaluation failed: each gets a card. */
const answersFor = (outcome: OrderOutcome): boolean =>
  outcome.result !== undefined || outcome.screening.phase !== null || outcome.screening.unreadable.length > 0;

export async function runHookCall(
  deps: HookCallDeps,
  service: LoadedService,
  request: HookRequest,
  policyPageUrl: string,
  /** Aborts fetching and evaluating from outside (e.g. a whole-call deadline kept by the caller). */
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
  const noAnswer = (leftOut: readonly SkippedResource[]): HookCallResult => ({
    response: { cards: [], ...(withActions && { systemActions: [] }) },
    stats: { orders: 0, fetchedKeys: [], truncatedKeys: [], skippedResources: leftOut.length, failedEvaluations: 0 },
    evaluations: [],
    record: [],
    assertionIds: [],
    leftOut,
  });
  if (candidates.length === 0) return noAnswer([]);
  // A draft order may name its drug by reference to a separate Medication, which the phase may depend on: read those first.
  const draftMedications = await fetchReferencedMedications(request, deps.fetcher, drafts, drafts, deadline);
  const call: CallOrders = { policy, drafts, orders: candidates.map((order) => drafts.indexOf(order)), draftMedications };

  // The record is fetched only for orders the policy governs. When part of it must be fetched, the draft orders are
  // screened first; when the prefetch holds it all, each order's phase is decided once, inside its evaluation.
  let screened = prefetchComplete(service, request) ? undefined : await deps.evaluator.screen(call, signal);
  if (screened && !screened.orders.some(answersFor)) return noAnswer(screened.leftOut);

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
  // Which orders the failure of the record's read concerns (Medications by reference may fail after a complete prefetch).
  if (!read.ok) screened ??= await deps.evaluator.screen(call, signal);
  const { outcomes, leftOut } = read.ok
    ? await evaluateOrders(deps, { ...call, record: read.record, callDate, screened: screened?.orders.map((o) => o.screening) }, signal)
    : // The record could not be read: every governed order gets a failed check.
      { outcomes: failEach((screened?.orders ?? []).map((o) => o.screening), 'record unreadable'), leftOut: screened?.leftOut ?? [] };
  const answered = outcomes.flatMap((outcome, i) => (answersFor(outcome) ? [{ order: candidates[i], outcome }] : []));
  if (answered.length === 0) return noAnswer(leftOut);
  if (settings.coverageInfo) {
    // CRD found-36: context resources have ids; the system action updates the order by its id.
    const unnamed = answered.find(({ order }) => typeof order.id !== 'string' || order.id === '');
    if (unnamed) throw crdRuleViolation(`context.draftOrders: ${unnamed.order.resourceType} without id (CRD requires an id on every draft order)`);
  }
  // Coverage is looked up (and may be required, CRD hook-13) only when an order gets an answer.
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

  const orders = answered.map((a) => a.order);
  // An order answered without an evaluation is one whose draft could not be read whole: the card says which parts.
  const unreadable = answered.map(({ outcome }) => (outcome.result ? undefined : `parts of the order could not be read (${outcome.screening.unreadable.join(', ')})`));
  const results = answered.map(({ outcome }, i): OrderEvaluationResult => outcome.result ?? { evaluation: null, skipped: [], error: unreadable[i] });

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
      if (result.error) return [buildEvaluationFailedCard(orderReference(orders[i], drafts.indexOf(orders[i])), cardContext, unreadable[i])];
      return [];
    })
    // CRD dev-5: a client can switch each card type off; then max-cards, in order.
    .filter((card) => settings.cardTypes[card.source.topic?.code as string] !== false)
    .slice(0, settings.maxCards);

  const systemActions: SystemAction[] = [];
  if (settings.coverageInfo && coverage.kind === 'found') {
    results.forEach((result, i) => {
      const outcome: CoverageOutcome | null = result.evaluation
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

/** Every order of these screenings that would get a card gets a failed check instead. */
function failEach(screenings: readonly OrderScreening[], error: string): OrderOutcome[] {
  return screenings.map((screening) => (answersFor({ screening }) ? { screening, result: { evaluation: null, skipped: [], error } } : { screening }));
}

/**
 * Evaluates the call's orders, each once: an order whose outcome for the same inputs is in the cache (order-select,
 * then order-sign) is answered from it; the others go to the evaluator in one message.
 */
async function evaluateOrders(
  deps: HookCallDeps,
  call: Parameters<CallEvaluator['evaluate']>[0] & { record: FhirResource[] },
  signal: AbortSignal | undefined,
): Promise<{ outcomes: OrderOutcome[]; leftOut: readonly SkippedResource[] }> {
  const cached = deps.evaluationCache?.forCall(deps.evaluator, call);
  const outcomes: Array<OrderOutcome | undefined> = call.orders.map((index, i) => {
    if (call.screened && !answersFor({ screening: call.screened[i] })) return { screening: call.screened[i] };
    return cached?.get(call.drafts[index]);
  });
  const missing = call.orders.flatMap((index, i) => (outcomes[i] === undefined ? [i] : []));
  if (missing.length === 0) {
    // Every order from the cache: what intake left out is what the call that computed them found.
    const leftOut = outcomes.find((o) => (o?.result?.skipped.length ?? 0) > 0)?.result?.skipped ?? [];
    return { outcomes: outcomes as OrderOutcome[], leftOut };
  }
  const subset = { ...call, orders: missing.map((i) => call.orders[i]), screened: call.screened && missing.map((i) => (call.screened as OrderScreening[])[i]) };
  const evaluated = await deps.evaluator.evaluate(subset, signal).catch(async (error: Error): Promise<CallEvaluation> => {
    if (!(error instanceof EvaluationStopped)) throw error;
    // The evaluation itself broke (its thread ran out of memory, say): every order it would have answered gets a
    // failed check, never silence. Which those are comes from the draft orders alone.
    const screened = subset.screened ?? (await deps.evaluator.screen(subset, signal)).orders.map((o) => o.screening);
    return { orders: failEach(screened, `the policy could not be evaluated (${error.message})`), leftOut: [] };
  });
  evaluated.orders.forEach((outcome, j) => {
    const i = missing[j];
    outcomes[i] = outcome;
    cached?.set(call.drafts[call.orders[i]], outcome);
    if (outcome.result) {
      deps.metrics?.evaluation((outcome.ms ?? 0) / 1000, outcome.result.error ? 'error' : 'ok');
      if (outcome.result.evaluation) deps.metrics?.criteria(outcome.result.evaluation.criteria);
    }
  });
  return { outcomes: outcomes as OrderOutcome[], leftOut: evaluated.leftOut };
}
