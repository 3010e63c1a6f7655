/**
 * One CDS Hooks card per evaluated order (criteria.md section 4): a pure function of the
 * evaluation, the hook and the policy page URL. The evaluation goes into the card unchanged
 * under the `policy-evaluation` extension; everything else here is its human rendering.
 */
import { randomUUID } from 'node:crypto';
import type { Coding } from 'fhir/r4';
import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import type { PolicyPack } from '../packs/load-packs';
import { cardDetail, cardSummary, escapeMarkdown, isUndetermined, overrideReasonsFor } from './card-text';
import { suggestionsFor } from './suggestions';
import type { Card, HookName, Indicator } from '../cds-hooks/types';

/** Da Vinci CRD asks every card for a `source.topic` from its card-type code system. */
const CARD_TOPIC: Coding = { system: 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp', code: 'guideline', display: 'Guideline' };

export interface CardContext {
  hook: HookName;
  /** The policy pack the evaluation comes from: every text of the card is its. */
  pack: PolicyPack;
  /** Absolute URL of the pack's policy page on this service. */
  policyPageUrl: string;
  patientId: string;
  /** The hook call's date (UTC, YYYY-MM-DD), used as authoredOn of suggested orders. */
  callDate: string;
  /** Prefetch keys whose search had more pages than the service reads: the record behind the card is partial. */
  partialKeys?: string[];
  /** The date the evaluator counted the look-back windows from. */
  orderDate?: string;
  /** Criterion id -> date of the latest record of its kind just outside its window, where the evaluator gives one. */
  latestOutsideWindow?: Readonly<Record<string, string>>;
  newId?: () => string;
}

const isGap = (c: CriterionResult) => c.status === 'not-met' || c.status === 'not-documented';

function indicatorOf(e: PolicyEvaluation, pack: PolicyPack, hook: HookName): Indicator {
  const clean = !isUndetermined(e, pack) && !e.criteria.some(isGap);
  if (clean) return 'info';
  // On order-select the order is still being composed: gaps inform, they do not warn yet.
  return hook === 'order-sign' ? 'warning' : 'info';
}

/**
 * The evaluator failed on this order (its result carried `error`): saying nothing would read as
 * "the policy does not apply", so the card says the check could not be done.
 */
export function buildEvaluationFailedCard(orderReference: string, ctx: Pick<CardContext, 'pack' | 'policyPageUrl' | 'newId'>): Card {
  const newId = ctx.newId ?? randomUUID;
  const { pack } = ctx;
  return {
    uuid: newId(),
    summary: `Policy ${pack.id} could not be checked for this order; review it against the policy`,
    detail:
      `The service could not evaluate order ${escapeMarkdown(orderReference)} against policy ${pack.id} ${pack.manifest.title}. ` +
      'No result is shown; the policy page lists what the check would look for.',
    indicator: 'info',
    source: { label: pack.manifest.label, url: ctx.policyPageUrl, topic: CARD_TOPIC },
    links: [{ label: `What this service checks for policy ${pack.id}`, url: ctx.policyPageUrl, type: 'absolute' }],
  };
}

export function buildCard(evaluation: PolicyEvaluation, ctx: CardContext): Card {
  const newId = ctx.newId ?? randomUUID;
  const { pack } = ctx;
  const indicator = indicatorOf(evaluation, pack, ctx.hook);
  const suggestions = suggestionsFor(evaluation.criteria, pack.manifest.suggestions, { patientId: ctx.patientId, callDate: ctx.callDate, newId });
  return {
    uuid: newId(),
    summary: cardSummary(evaluation, pack),
    detail: cardDetail(evaluation, ctx),
    indicator,
    source: { label: pack.manifest.label, url: ctx.policyPageUrl, topic: CARD_TOPIC },
    ...(suggestions.length > 0 && { suggestions, selectionBehavior: 'any' as const }),
    ...(indicator === 'warning' && { overrideReasons: overrideReasonsFor(evaluation, pack) }),
    links: [{ label: `What this service checks for policy ${pack.id}`, url: ctx.policyPageUrl, type: 'absolute' }],
    extension: { 'policy-evaluation': evaluation },
  };
}
