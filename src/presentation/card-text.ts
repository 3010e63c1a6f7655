/**
 * What a clinician reads on a card, in the pack's words: a summary that names the gaps, and a detail that leads
 * with what blocks the order, then what to add to the record, then one line for what is met. No FHIR or criterion
 * ids (those stay in the `policy-evaluation` extension). The evaluator decided every status; this only orders and
 * words them.
 */
import type { Coding } from 'fhir/r4';
import type { CriterionResult, CriterionStatus, PolicyEvaluation } from '../engine/types';
import type { PolicyPack } from '../packs/load-packs';

/** CDS Hooks: the summary is under 140 characters. */
export const SUMMARY_MAX = 139;

/** The order a card shows its parts in: what blocks the order, what to add, what is fine. */
export const STATUS_ORDER: readonly CriterionStatus[] = ['not-met', 'not-documented', 'met', 'not-applicable'];

const isGap = (c: CriterionResult) => c.status === 'not-met' || c.status === 'not-documented';

export interface CardTextContext {
  pack: PolicyPack;
  /** The date the CQL counted the look-back windows from (YYYY-MM-DD). */
  orderDate?: string;
  /** Criterion id -> date of the latest record of its kind that fell before its window, where the CQL gives one. */
  latestOutsideWindow?: Readonly<Record<string, string>>;
  /** Prefetch keys whose search had more pages than the service reads: the record behind the card is partial. */
  partialKeys?: string[];
}

/**
 * Text from the evaluation (notes can quote the record) is shown as literal text: no links,
 * images, HTML or emphasis. Inline text only, so line-start syntax (#, -, 1.) cannot occur.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/[\\`*_[\]<>|~]/g, (ch) => `\\${ch}`);
}

/** Replaces `{name}` with the given values; the pack's own `{Parameter}` placeholders were filled at load. */
function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}

export function isUndetermined(e: PolicyEvaluation, pack: PolicyPack): boolean {
  return e.pathway === pack.undeterminedPathway;
}

function orderLabel(e: PolicyEvaluation, pack: PolicyPack): string {
  const system = pack.manifest.codeSystemNames[e.code.system];
  return `${pack.manifest.phases[e.phase]?.label ?? pack.manifest.title} (${system ? `${system} ` : ''}${e.code.code})`;
}

const shortName = (id: string, pack: PolicyPack) => pack.manifest.criteria[id]?.short ?? pack.manifest.criteria[id]?.title ?? id;
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function cardSummary(e: PolicyEvaluation, pack: PolicyPack): string {
  const texts = pack.manifest.card;
  const order = orderLabel(e, pack);
  const policy = pack.id;
  let text: string;
  if (isUndetermined(e, pack)) {
    text = fill(texts.summaryUndetermined, { order, policy });
  } else {
    const groups = (['not-met', 'not-documented'] as const)
      .map((status) => ({
        template: status === 'not-met' ? texts.summaryNotMet : texts.summaryToDocument,
        names: e.criteria.filter((c) => c.status === status).map((c) => shortName(c.id, pack)),
      }))
      .filter((g) => g.names.length > 0);
    if (groups.length === 0) {
      text = fill(texts.summaryClean, { order, policy, count: e.criteria.length });
    } else {
      // Name as many gaps as fit, most important first (not met before to document), the rest as "+N more".
      const render = (budget: number) => {
        let left = budget;
        const parts = groups.map(({ template, names }) => {
          const group = fill(template, { count: names.length });
          const shown = names.slice(0, Math.min(names.length, left));
          left -= shown.length;
          if (shown.length === 0) return group;
          const more = names.length - shown.length;
          const list = [...shown, ...(more > 0 ? [fill(texts.summaryMore, { count: more })] : [])].join(', ');
          return fill(texts.summaryNames, { group, names: list });
        });
        return fill(texts.summaryGaps, { order, policy, gaps: parts.join('; ') });
      };
      const total = groups.reduce((n, g) => n + g.names.length, 0);
      text = render(0);
      for (let budget = total; budget > 0; budget--) {
        const candidate = render(budget);
        if (candidate.length <= SUMMARY_MAX) {
          text = candidate;
          break;
        }
      }
    }
  }
  // The code comes from the order; a freak long one must not break the CDS Hooks limit.
  return text.length <= SUMMARY_MAX ? text : `${text.slice(0, SUMMARY_MAX - 1)}…`;
}

function gapLine(c: CriterionResult, ctx: CardTextContext): string {
  const { pack } = ctx;
  const texts = pack.manifest.card;
  const marker = texts.markers[c.status];
  const name = `**${escapeMarkdown(capitalized(shortName(c.id, pack)))}**`;
  if (c.status === 'not-met') return `- ${marker} ${name}${c.note ? `: ${escapeMarkdown(c.note)}` : ''}`;
  // Not documented: the concrete thing to add, and what the record holds just outside the window.
  const add = pack.manifest.criteria[c.id]?.toDocument;
  const latest = ctx.latestOutsideWindow?.[c.id];
  const parts = [add ? escapeMarkdown(add) : c.note ? escapeMarkdown(c.note) : '', latest ? escapeMarkdown(fill(texts.latestOutsideWindow, { date: latest })) : ''];
  const said = parts.filter(Boolean).join(' ');
  return `- ${marker} ${name}${said ? `: ${said}` : ''}`;
}

export function cardDetail(e: PolicyEvaluation, ctx: CardTextContext): string {
  const { pack } = ctx;
  const texts = pack.manifest;
  const card = texts.card;
  const paragraphs: string[] = [];

  const opening: string[] = [];
  if (ctx.orderDate) opening.push(escapeMarkdown(fill(card.orderDate, { date: ctx.orderDate })));
  if (isUndetermined(e, pack)) opening.push(escapeMarkdown(texts.undeterminedDetail));
  else opening.push(fill(card.indication, { pathway: `**${escapeMarkdown(texts.pathways[e.pathway]?.label ?? e.pathway)}**` }));
  if (e.otherPathways && e.otherPathways.length > 0) {
    const others = e.otherPathways.map((p) => escapeMarkdown(texts.pathways[p]?.label ?? p)).join(', ');
    opening.push(fill(card.otherPathways, { pathways: others }));
  }
  paragraphs.push(opening.join(' '));
  if (texts.pathways[e.pathway]?.externalCriteria && texts.externalCriteria) paragraphs.push(escapeMarkdown(texts.externalCriteria.card));
  for (const c of e.criteria) {
    const notMetText = c.status === 'not-met' ? texts.criteria[c.id]?.cardTextWhenNotMet : undefined;
    if (notMetText) paragraphs.push(escapeMarkdown(notMetText));
  }

  for (const status of STATUS_ORDER) {
    const group = e.criteria.filter((c) => c.status === status);
    if (group.length === 0) continue;
    const heading = `${card.markers[status]} ${escapeMarkdown(card.sections[status])}`;
    if (status === 'not-met' || status === 'not-documented') {
      paragraphs.push(`**${heading}**`);
      paragraphs.push(group.map((c) => gapLine(c, ctx)).join('\n'));
    } else {
      // What is fine takes one line: titles only.
      paragraphs.push(`**${heading}:** ${escapeMarkdown(capitalized(group.map((c) => shortName(c.id, pack)).join(' · ')))}`);
    }
  }

  if (ctx.partialKeys && ctx.partialKeys.length > 0) {
    paragraphs.push(escapeMarkdown(fill(card.partialRecord, { keys: ctx.partialKeys.join(', ') })));
  }
  return paragraphs.join('\n\n');
}

/** The pack's override reasons that fit this card's gaps (a reason with no criteria or statuses fits any card). */
export function overrideReasonsFor(e: PolicyEvaluation, pack: PolicyPack): Coding[] {
  const gaps = e.criteria.filter(isGap);
  return pack.manifest.overrideReasons
    .filter((r) => {
      if (!r.criteria && !r.statuses) return true;
      return gaps.some((g) => (!r.criteria || r.criteria.includes(g.id)) && (!r.statuses || (r.statuses as string[]).includes(g.status)));
    })
    .map(({ system, code, display }) => ({ system, code, display }));
}
