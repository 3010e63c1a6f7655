/**
 * One CDS Hooks card per evaluated order (criteria.md section 4): a pure function of the
 * evaluation, the hook and the policy page URL. The evaluation goes into the card unchanged
 * under the `policy-evaluation` extension; everything else here is its human rendering.
 */
import { randomUUID } from 'node:crypto';
import type { Coding } from 'fhir/r4';
import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import {
  INTERQUAL_NAME,
  INTERQUAL_PATHWAYS,
  PATHWAY_LABELS,
  PHASE_LABELS,
  POLICY,
  STATUS_LABELS,
  criterionTitle,
} from './policy-text';
import { suggestionsFor } from './suggestions';
import { CLINICAL_REMINDER_TOPIC, GUIDELINE_TOPIC } from '../crd/card-types';
import type { Card, HookName, Indicator } from '../cds-hooks/types';

export const SUMMARY_MAX = 139;

const OVERRIDE_REASON_SYSTEM = 'http://intrathecal-cds.example.org/fhir/CodeSystem/override-reason';
export const OVERRIDE_REASONS: readonly Coding[] = [
  { system: OVERRIDE_REASON_SYSTEM, code: 'documented-elsewhere', display: 'Documented elsewhere (not in this record)' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'clinical-judgement', display: 'Proceeding on clinical judgement' },
  { system: OVERRIDE_REASON_SYSTEM, code: 'patient-declined-evaluation', display: 'Patient declined the evaluation' },
];

const CODE_SYSTEM_NAMES: Record<string, string> = {
  'http://www.ama-assn.org/go/cpt': 'CPT',
  'https://bluebutton.cms.gov/resources/codesystem/hcpcs': 'HCPCS',
  'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': 'HCPCS',
};

export interface CardContext {
  hook: HookName;
  /** The insurer's name (CRD resp-4): every card's `source.label`. */
  insurer: string;
  /** context.userId (`Practitioner/id` or `PractitionerRole/id`): the requester of suggested orders. */
  userId: string;
  encounterId?: string;
  /** Absolute URL of GET /policy/2022T0626C on this service. */
  policyPageUrl: string;
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

function orderLabel(e: PolicyEvaluation): string {
  const system = CODE_SYSTEM_NAMES[e.code.system];
  return `${PHASE_LABELS[e.phase] ?? 'Intrathecal drug delivery'} (${system ? `${system} ` : ''}${e.code.code})`;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function summaryOf(e: PolicyEvaluation): string {
  const label = orderLabel(e);
  let text: string;
  if (e.pathway === 'undetermined') {
    text = `${label}: no qualifying diagnosis found, document the indication (policy ${POLICY.id})`;
  } else {
    const notMet = e.criteria.filter((c) => c.status === 'not-met').length;
    const notDocumented = e.criteria.filter((c) => c.status === 'not-documented').length;
    text =
      notMet + notDocumented === 0
        ? `${label}: all ${e.criteria.length} criteria of policy ${POLICY.id} met or not applicable`
        : `${label}: ${plural(notMet, 'criterion', 'criteria')} not met, ${notDocumented} not documented (policy ${POLICY.id})`;
  }
  // The code comes from the order; a freak long one must not break the CDS Hooks limit.
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

function checklistLine(c: CriterionResult): string {
  const box = isGap(c) ? '[ ]' : '[x]';
  const note = c.note ? `: ${escapeMarkdown(c.note)}` : '';
  return `- ${box} **${escapeMarkdown(criterionTitle(c.id))}** (\`${c.id.replace(/[`\r\n]/g, '')}\`) — ${STATUS_LABELS[c.status] ?? c.status}${note}`;
}

function detailOf(e: PolicyEvaluation, partialKeys: string[] = []): string {
  const lines: string[] = [];
  const coding = `${CODE_SYSTEM_NAMES[e.code.system] ?? escapeMarkdown(e.code.system)} ${escapeMarkdown(e.code.code)}`;
  const display = e.code.display ? ` ${escapeMarkdown(e.code.display)}` : '';
  lines.push(`Order ${escapeMarkdown(e.order)} (${coding}${display}), ${e.phase} phase, checked against policy ${POLICY.id} ${POLICY.title}.`);
  lines.push('');

  if (e.pathway === 'undetermined') {
    lines.push(
      'No indication for the order was found. Add the diagnosis as the order\'s reason or as an active condition ' +
        '(cancer-related pain, severe spasticity, or chronic intractable non-malignant pain) so the policy criteria can be checked.',
    );
  } else {
    lines.push(`Indication: **${PATHWAY_LABELS[e.pathway]}**.`);
  }
  if (e.otherPathways && e.otherPathways.length > 0) {
    lines.push(`Other indications on the record: ${e.otherPathways.map((p) => PATHWAY_LABELS[p] ?? p).join(', ')}.`);
  }
  if (INTERQUAL_PATHWAYS.has(e.pathway)) {
    lines.push(
      `For this indication, InterQual criteria (${INTERQUAL_NAME}; proprietary) decide medical necessity. ` +
        'This service does not apply them; it checks the documentation the policy requires.',
    );
  }
  if (e.criteria.some((c) => c.id === 'age-18' && c.status === 'not-met')) {
    lines.push('The policy does not address individuals under 18.');
  }
  lines.push('');
  lines.push(...e.criteria.map(checklistLine));
  if (partialKeys.length > 0) {
    lines.push('');
    lines.push(
      `Part of the record was not read (${partialKeys.map(escapeMarkdown).join(', ')}: more results than the service reads), ` +
        'so a criterion shown as not documented may be documented in the part not read.',
    );
  }
  return lines.join('\n');
}

function indicatorOf(e: PolicyEvaluation, hook: HookName): Indicator {
  const clean = e.pathway !== 'undetermined' && !e.criteria.some(isGap);
  if (clean) return 'info';
  // On order-select the order is still being composed: gaps inform, they do not warn yet.
  return hook === 'order-sign' ? 'warning' : 'info';
}

/**
 * The evaluator failed on this order (its result carried `error`): saying nothing would read as
 * "the policy does not apply", so the card says the check could not be done.
 */
export function buildEvaluationFailedCard(orderReference: string, ctx: Pick<CardContext, 'policyPageUrl' | 'newId' | 'insurer'>): Card {
  const newId = ctx.newId ?? randomUUID;
  return {
    uuid: newId(),
    summary: `Policy ${POLICY.id} could not be checked for this order; review it against the policy`,
    detail:
      `The service could not evaluate order ${escapeMarkdown(orderReference)} against policy ${POLICY.id} ${POLICY.title}. ` +
      'No result is shown; the policy page lists what the check would look for.',
    indicator: 'info',
    source: { label: ctx.insurer, url: ctx.policyPageUrl, topic: GUIDELINE_TOPIC },
    links: [{ label: `What this service checks for policy ${POLICY.id}`, url: ctx.policyPageUrl, type: 'absolute' }],
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
  const indicator = indicatorOf(evaluation, ctx.hook);
  const suggestions = options.suggestions
    ? suggestionsFor(evaluation.criteria, { patientId: ctx.patientId, userId: ctx.userId, encounterId: ctx.encounterId, callDate: ctx.callDate, newId })
    : [];
  const pageLabel = `What this service checks for policy ${POLICY.id}`;
  const detail = detailOf(evaluation, ctx.partialKeys);
  return {
    uuid: newId(),
    summary: summaryOf(evaluation),
    detail: suggestions.length > 0 ? `${detail}

[${pageLabel}](${ctx.policyPageUrl})` : detail,
    indicator,
    source: { label: ctx.insurer, url: ctx.policyPageUrl, topic: suggestions.length > 0 ? CLINICAL_REMINDER_TOPIC : GUIDELINE_TOPIC },
    ...(suggestions.length > 0 && { suggestions, selectionBehavior: 'any' as const }),
    ...(indicator === 'warning' && { overrideReasons: [...OVERRIDE_REASONS] }),
    ...(suggestions.length === 0 && { links: [{ label: pageLabel, url: ctx.policyPageUrl, type: 'absolute' as const }] }),
    extension: { 'policy-evaluation': evaluation, ...associatedResource(evaluation.order).extension },
  };
}
