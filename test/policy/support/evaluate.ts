/**
 * Runs the real policy engine (ELM from build/elm, value sets from cql/valuesets) on a record built by the test,
 * and reads criteria out of the result. Load the engine once per test file: `const engine = await loadPolicyEngine()`.
 */
import type { Resource } from 'fhir/r4';
import type { CriterionResult, OrderEvaluationResult, PolicyEngine, PolicyEvaluation, DraftOrder } from '../../../src/engine/types';
import { ORDER_DATE, implantOrder, patient, trialAgentDraft, trialOrder } from './builders';

export interface RunOptions {
  /** Draft orders besides the order itself. */
  drafts?: Resource[];
  callDate?: string;
  /** The pack's REQUIRE_TRIAL_AGENT setting (CQL parameter "Require Trial Agent"). */
  requireTrialAgent?: boolean;
}

export async function run(engine: PolicyEngine, record: unknown, order: DraftOrder, opts: RunOptions = {}): Promise<OrderEvaluationResult> {
  return engine.evaluateOrder(record, order, {
    draftOrders: [order, ...(opts.drafts ?? [])],
    callDate: opts.callDate ?? ORDER_DATE,
    ...(opts.requireTrialAgent === undefined ? {} : { parameters: { 'Require Trial Agent': opts.requireTrialAgent } }),
  });
}

/** The evaluation of a successful run; fails the test with the engine's error when there is none. */
export async function evaluate(engine: PolicyEngine, record: unknown, order: DraftOrder, opts: RunOptions = {}): Promise<PolicyEvaluation> {
  const result = await run(engine, record, order, opts);
  expect(result.error).toBeUndefined();
  expect(result.evaluation).not.toBeNull();
  return result.evaluation as PolicyEvaluation;
}

/** Evaluates an implant order (CPT 62362) for the patient (born 1970) plus the given resources. */
export function evaluateImplant(engine: PolicyEngine, resources: Resource[], order: DraftOrder = implantOrder()): Promise<PolicyEvaluation> {
  return evaluate(engine, [patient(), ...resources], order);
}

/** Evaluates a trial order (CPT 62322 with an intrathecal morphine draft order) for the patient plus the resources. */
export function evaluateTrial(engine: PolicyEngine, resources: Resource[], order: DraftOrder = trialOrder()): Promise<PolicyEvaluation> {
  return evaluate(engine, [patient(), ...resources], order, { drafts: [trialAgentDraft()] });
}

export function criterion(evaluation: PolicyEvaluation, id: string): CriterionResult {
  const found = evaluation.criteria.filter((c) => c.id === id);
  expect(found).toHaveLength(1);
  return found[0];
}

export function statusOf(evaluation: PolicyEvaluation, id: string): string {
  return criterion(evaluation, id).status;
}
