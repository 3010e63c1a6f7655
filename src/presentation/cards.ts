/**
 * One CDS Hooks card per evaluated order (criteria.md section 4): a pure function of the
 * evaluation, the hook and the policy page URL. The evaluation goes into the card unchanged
 * under the `policy-evaluation` extension; everything else here is its human rendering.
 */
import { randomUUID } from 'node:crypto';
import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import type { PolicyPack } from '../packs/load-packs';
import { cardDetail, cardSummary, escapeMarkdown, isUndetermined, overrideReasonsFor } from './card-text';
import { suggestionsFor } from './suggestions';
import { CLINICAL_REMINDER_TOPIC, GUIDELINE_TOPIC } from '../crd/card-types';
import type { Card, HookName, Indicator } from '../cds-hooks/types';

export interface CardContext {
  hook: HookName;
  /** The policy pack the evaluation comes from: every text of the card is its. */
  pack: PolicyPack;
  /** Absolute URL of the pack's policy page on this service. */
  policyPageUrl: string;
  /** The insurer's name (CRD resp-4): every card's `source.label`. */
  insurer: string;
  /** context.userId (`Practitioner/id` or `PractitionerRole/id`): the requester of suggested orders. */
  userId: string;
  encounterId?: string;
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
export function buildEvaluationFailedCard(orderReference: string, ctx: Pick<CardContext, 'pack' | 'policyPageUrl' | 'newId' | 'insurer'>): Card {
  const newId = ctx.newId ?? randomUUID;
  const { pack } = ctx;
  return {
    uuid: newId(),
    summary: `Policy ${pack.id} could not be checked for this order; review it against the policy`,
    detail:
      `The service could not evaluate order ${escapeMarkdown(orderReference)} against policy ${pack.id} ${pack.manifest.title}. ` +
      'No result is shown; the policy page lists what the check would look for.',
    indicator: 'info',
    source: { label: ctx.insurer, url: ctx.policyPageUrl, topic: GUIDELINE_TOPIC },
    links: [{ label: `What this service checks for policy ${pack.id}`, url: ctx.policyPageUrl, type: 'absolute' }],
    ...associatedResource(orderReference),
  };
}

/** A local `Type/id` reference to a context order; an order without id cannot be named this way. */
const LOCAL_REFERENCE = /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;

/** CRD dev-25: the card names the order it is about (`davinci-crd.associated-resource`). */
function associatedResource(order: string): { extension?: Record<string, unknown> } {
  return LOCAL_REFERENCE.test(order) ? { extension: { 'davinci-crd.associated-resource': [{ reference: order }] } } : {};
}

export interface CardOptions {
  /** Whether the card may offer suggested orders (the client's `clinical-reminder` configuration). */
  suggestions: boolean;
}

/**
 * The policy checklist for one order, as exactly one CRD response type (CRD 2.2 cards page):
 * - when a gap has a suggested order: "Identify Additional Orders" (topic `clinical-reminder`), which
 *   has no links, so the policy page is named in the detail and in the coverage information's
 *   `policy-link` detail;
 * - otherwise "External Reference" (topic `guideline`), whose one link is our policy page.
 */
export function buildCard(evaluation: PolicyEvaluation, ctx: CardContext, options: CardOptions = { suggestions: true }): Card {
  const newId = ctx.newId ?? randomUUID;
  const { pack } = ctx;
  const indicator = indicatorOf(evaluation, pack, ctx.hook);
  const suggestions = options.suggestions
    ? suggestionsFor(evaluation.criteria, pack.manifest.suggestions, {
        patientId: ctx.patientId,
        userId: ctx.userId,
        encounterId: ctx.encounterId,
        callDate: ctx.callDate,
        newId,
      })
    : [];
  const pageLabel = `What this service checks for policy ${pack.id}`;
  const detail = cardDetail(evaluation, ctx);
  return {
    uuid: newId(),
    summary: cardSummary(evaluation, pack),
    detail: suggestions.length > 0 ? `${detail}\n\n[${pageLabel}](${ctx.policyPageUrl})` : detail,
    indicator,
    source: { label: ctx.insurer, url: ctx.policyPageUrl, topic: suggestions.length > 0 ? CLINICAL_REMINDER_TOPIC : GUIDELINE_TOPIC },
    ...(suggestions.length > 0 && { suggestions, selectionBehavior: 'any' as const }),
    ...(indicator === 'warning' && { overrideReasons: overrideReasonsFor(evaluation, pack) }),
    ...(suggestions.length === 0 && { links: [{ label: pageLabel, url: ctx.policyPageUrl, type: 'absolute' as const }] }),
    extension: { 'policy-evaluation': evaluation, ...associatedResource(evaluation.order).extension },
  };
}
