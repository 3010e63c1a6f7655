/**
 * Prometheus metrics (prom-client) for operators: how fast hook calls are answered (CRD expects an
 * answer within 5 s, so 5 is a bucket edge and the share within it is a ratio of two series), where
 * the time goes (FHIR fetches per prefetch key, evaluation), how often the EHR's prefetch was enough,
 * what the policy found, and what clinicians did with the cards.
 *
 * Labels take values only from bounded sets the service itself defines (route patterns, service ids
 * from the catalog, prefetch keys from the templates, criterion ids and statuses from the policy,
 * override reason codes the cards offer, HTTP status codes): never patient, order or client values.
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { Coding } from 'fhir/r4';
import type { CardFeedback } from '../cds-hooks/feedback';
import type { CriterionStatus } from '../engine/types';
import type { FinishedRequest } from '../logging/request-log';

/** Route pattern of the hook calls, as the request log names it. */
const HOOK_ROUTE = '/cds-services/:id';

/** Seconds. Dense below the 4.5 s deadline and the 5 s CRD target so both are readable. */
const CALL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 4, 4.5, 5, 7.5, 10];
const FETCH_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5];
const EVALUATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** How a prefetch key was filled: sent by the EHR, sent as "no data" (null), or fetched by us. */
export type PrefetchSource = 'hit' | 'empty' | 'miss';

/** What the hook layer reports; every method is cheap and never throws. */
export interface HookMetrics {
  prefetch(key: string, source: PrefetchSource): void;
  /** One FHIR query for a missing key; `outcome` is 'ok' or the fetch failure's reason. */
  fhirFetch(key: string, outcome: string, seconds: number): void;
  /** One order's evaluation; `outcome` is 'ok' or 'error'. */
  evaluation(seconds: number, outcome: 'ok' | 'error'): void;
  criteria(results: ReadonlyArray<{ id: string; status: CriterionStatus }>): void;
  feedbackReceived(service: string, items: readonly CardFeedback[]): void;
}

export interface ServiceMetrics extends HookMetrics {
  readonly registry: Registry;
  /** The request log's onFinished: HTTP responses by status, hook call latency. */
  requestFinished(request: FinishedRequest): void;
}

export interface MetricsOptions {
  /** Codes (with their system) of the override reasons the cards offer; any other reason counts as 'other'. */
  overrideReasons: readonly Coding[];
  /** Process metrics (CPU, memory, event-loop delay); default on. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): ServiceMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const responses = new Counter({
    name: 'cds_http_responses_total',
    help: 'HTTP responses by route pattern, method and status code (errors: status >= 400)',
    labelNames: ['route', 'method', 'status'] as const,
    registers,
  });
  const hookCalls = new Histogram({
    name: 'cds_hook_call_duration_seconds',
    help: 'Hook calls from arrival to answer, by service and outcome (cards, no-card, evaluation-failed, deadline, or status-NNN for refusals and errors)',
    labelNames: ['service', 'outcome'] as const,
    buckets: CALL_BUCKETS,
    registers,
  });
  const prefetch = new Counter({
    name: 'cds_prefetch_keys_total',
    help: 'Prefetch keys per hook call by how they were filled: hit (sent by the EHR), empty (sent as null), miss (fetched from the FHIR server)',
    labelNames: ['key', 'result'] as const,
    registers,
  });
  const fetches = new Histogram({
    name: 'cds_fhir_fetch_duration_seconds',
    help: 'FHIR queries for missing prefetch keys, all pages, by key and outcome (ok or the failure reason)',
    labelNames: ['key', 'outcome'] as const,
    buckets: FETCH_BUCKETS,
    registers,
  });
  const evaluations = new Histogram({
    name: 'cds_evaluation_duration_seconds',
    help: 'Policy evaluation of one order (CQL), by outcome',
    labelNames: ['outcome'] as const,
    buckets: EVALUATION_BUCKETS,
    registers,
  });
  const criteria = new Counter({
    name: 'cds_criterion_results_total',
    help: 'Criterion results in the cards returned, by criterion id and status',
    labelNames: ['criterion', 'status'] as const,
    registers,
  });
  const feedback = new Counter({
    name: 'cds_feedback_total',
    help: 'Card feedback received, by service and outcome (accepted, overridden)',
    labelNames: ['service', 'outcome'] as const,
    registers,
  });
  const overrides = new Counter({
    name: 'cds_override_reasons_total',
    help: 'Overridden cards by service and reason code (other: a code the cards do not offer; comment-only; none)',
    labelNames: ['service', 'reason'] as const,
    registers,
  });

  const offered = new Set(options.overrideReasons.map((c) => `${c.system ?? ''}|${c.code}`));
  const reasonLabel = (item: CardFeedback): string => {
    const reason = item.overrideReason;
    if (!reason) return 'none';
    if (!reason.reason) return 'comment-only';
    const code = reason.reason.code ?? '';
    return offered.has(`${reason.reason.system ?? ''}|${code}`) ? code : 'other';
  };

  return {
    registry,
    requestFinished(request) {
      const status = String(request.status);
      responses.inc({ route: request.route, method: request.method, status });
      if (request.route !== HOOK_ROUTE || request.method !== 'POST') return;
      // The service is named only once the catalog knew it; before that (refused, unknown id) it is 'none'.
      const service = request.hook?.service ?? 'none';
      const outcome = request.hook?.outcome ?? (request.aborted ? 'aborted' : `status-${status}`);
      hookCalls.observe({ service, outcome }, request.durationSeconds);
    },
    prefetch(key, source) {
      prefetch.inc({ key, result: source });
    },
    fhirFetch(key, outcome, seconds) {
      fetches.observe({ key, outcome }, seconds);
    },
    evaluation(seconds, outcome) {
      evaluations.observe({ outcome }, seconds);
    },
    criteria(results) {
      for (const { id, status } of results) criteria.inc({ criterion: id, status });
    },
    feedbackReceived(service, items) {
      for (const item of items) {
        feedback.inc({ service, outcome: item.outcome });
        if (item.outcome === 'overridden') overrides.inc({ service, reason: reasonLabel(item) });
      }
    },
  };
}
