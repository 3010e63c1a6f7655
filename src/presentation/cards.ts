/**
 * One CDS Hooks card per evaluated order (criteria.md section 4): a pure function of the
 * evaluation, the hook and the policy page URL. The evaluation goes into the card unchanged
 * under the `policy-evaluation` extension; everything else here is its human rendering.
 */
import { randomUUID } from 'node:crypto';
import type { Coding } from 'fhir/r4';
import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import type { CriterionStatus } from '../engine/types';
import type { PolicyPack } from '../packs/load-packs';
import { suggestionsFor } from './suggestions';
import { CLINICAL_REMINDER_TOPIC, GUIDELINE_TOPIC } from '../crd/card-types';
import type { Card, HookName, Indicator } from '../cds-hooks/types';

export const SUMMARY_MAX = 139;

export const STATUS_LABELS: Record<CriterionStatus, string> = {
  met: 'met',
  'not-met': 'not met',
  'not-documented': 'not documented',
  'not-applicable': 'not applicable',
};

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
  newId?: () => string;
}

const isGap = (c: CriterionResult) => c.status === 'not-met' || c.status === 'not-documented';

/**
 * Text from the evaluation (notes can quote the record) is shown as literal text: no links,
 * images, HTML or emphasis. Inline text only, so line-start syntax (#, -, 1.) cannot occur.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|~]/g, (ch) => `\\${ch}`);
}

function orderLabel(e: PolicyEvaluation, pack: PolicyPack): string {
  const system = pack.manifest.codeSystemNames[e.code.system];
  return `${pack.manifest.phases[e.phase]?.label ?? pack.manifest.title} (${system ? `${system} ` : ''}${e.code.code})`;
}

function isUndetermined(e: PolicyEvaluation, pack: PolicyPack): boolean {
  return e.pathway === pack.undeterminedPathway;
}

function criterionTitle(id: string, pack: PolicyPack): string {
  return pack.manifest.criteria[id]?.title ?? id;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summaryOf(e: PolicyEvaluation, pack: PolicyPack): string {
  const label = orderLabel(e, pack);
  const id = pack.id;
  let text: string;
  if (isUndetermined(e, pack)) {
    text = `${label}: no qualifying diagnosis found, document the indication (policy ${id})`;
  } else {
    const notMet = e.criteria.filter((c) => c.status === 'not-met').length;
    const notDocumented = e.criteria.filter((c) => c.status === 'not-documented').length;
    text =
      notMet + notDocumented === 0
        ? `${label}: all ${e.criteria.length} criteria of policy ${id} met or not applicable`
        : `${label}: ${plural(notMet, 'criterion', 'criteria')} not met, ${notDocumented} not documented (policy ${id})`;
  }
  // The code comes from the order; a freak long one must not break the CDS Hooks limit.
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

function checklistLine(c: CriterionResult, pack: PolicyPack): string {
  const box = isGap(c) ? '[ ]' : '[x]';
  const note = c.note ? `: ${escapeMarkdown(c.note)}` : '';
  return `- ${box} **${escapeMarkdown(criterionTitle(c.id, pack))}** (\`${c.id.replace(/[`\r\n]/g, '')}\`) — ${STATUS_LABELS[c.status] ?? c.status}${note}`;
}

function detailOf(e: PolicyEvaluation, pack: PolicyPack, partialKeys: string[] = []): string {
  const texts = pack.manifest;
  const lines: string[] = [];
  const coding = `${texts.codeSystemNames[e.code.system] ?? escapeMarkdown(e.code.system)} ${escapeMarkdown(e.code.code)}`;
  const display = e.code.display ? ` ${escapeMarkdown(e.code.display)}` : '';
  lines.push(`Order ${escapeMarkdown(e.order)} (${coding}${display}), ${e.phase} phase, checked against policy ${pack.id} ${texts.title}.`);
  lines.push('');

  if (isUndetermined(e, pack)) {
    lines.push(texts.undeterminedDetail);
  } else {
    lines.push(`Indication: **${escapeMarkdown(texts.pathways[e.pathway]?.label ?? e.pathway)}**.`);
  }
  if (e.otherPathways && e.otherPathways.length > 0) {
    lines.push(`Other indications on the record: ${e.otherPathways.map((p) => escapeMarkdown(texts.pathways[p]?.label ?? p)).join(', ')}.`);
  }
  if (texts.pathways[e.pathway]?.externalCriteria && texts.externalCriteria) {
    lines.push(texts.externalCriteria.card);
  }
  for (const c of e.criteria) {
    const text = c.status === 'not-met' ? texts.criteria[c.id]?.cardTextWhenNotMet : undefined;
    if (text) lines.push(text);
  }
  lines.push('');
  lines.push(...e.criteria.map((c) => checklistLine(c, pack)));
  if (partialKeys.length > 0) {
    lines.push('');
    lines.push(
      `Part of the record was not read (${partialKeys.map(escapeMarkdown).join(', ')}: more results than the service reads), ` +
        'so a criterion shown as not documented may be documented in the part not read.',
    );
  }
  return lines.join('\n');
}

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
  const detail = detailOf(evaluation, pack, ctx.partialKeys);
  return {
    uuid: newId(),
    summary: summaryOf(evaluation, pack),
    detail: suggestions.length > 0 ? `${detail}\n\n[${pageLabel}](${ctx.policyPageUrl})` : detail,
    indicator,
    source: { label: ctx.insurer, url: ctx.policyPageUrl, topic: suggestions.length > 0 ? CLINICAL_REMINDER_TOPIC : GUIDELINE_TOPIC },
    ...(suggestions.length > 0 && { suggestions, selectionBehavior: 'any' as const }),
    ...(indicator === 'warning' && { overrideReasons: pack.manifest.overrideReasons.map((r): Coding => ({ ...r })) }),
    ...(suggestions.length === 0 && { links: [{ label: pageLabel, url: ctx.policyPageUrl, type: 'absolute' as const }] }),
    extension: { 'policy-evaluation': evaluation, ...associatedResource(evaluation.order).extension },
  };
}
