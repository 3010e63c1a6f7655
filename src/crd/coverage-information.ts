/**
 * The Coverage Information extension for one evaluated order, by criteria.md section 5's table
 * (first matching row wins). It re-decides nothing: each row reads the statuses the CQL produced;
 * the prior-authorization setting and the questionnaire are payer configuration.
 * Extension definition: http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information (CRD 2.2.1).
 */
import type { CodeableConcept, Extension } from 'fhir/r4';
import type { CriterionResult, PolicyEvaluation } from '../engine/types';
import type { PolicyPack } from '../packs/load-packs';
import type { HookName } from '../cds-hooks/types';
import { priorAuthFor, type PayerConfig } from './payers';

export const COVERAGE_INFORMATION_URL = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';
/** CRD 2.2 binds `reason` to coverageAssertionReasons, whose codes are in the CRD temporary code system. */
const ASSERTION_REASON_SYSTEM = 'http://hl7.org/fhir/us/davinci-crd/CodeSystem/temp';
const COVERAGE_DETAIL_SYSTEM = 'http://terminology.hl7.org/CodeSystem/crd-coverage-detail';

export interface CoverageInformationContext {
  hook: HookName;
  /** The policy pack the evaluation comes from (criterion titles, external criteria). */
  pack: PolicyPack;
  payer: PayerConfig;
  /** `Coverage/id` of the Coverage the assertion is about. */
  coverageReference: string;
  /** The day of the call (YYYY-MM-DD). */
  callDate: string;
  policyPageUrl: string;
  /** A new, unique coverage-assertion-id. */
  newAssertionId: () => string;
}

/** What the table reads: the evaluation, or the fact that there is none because something failed. */
export type OrderOutcome = { evaluation: PolicyEvaluation } | { failure: string; orderCode?: string };

interface Assertion {
  covered: 'covered' | 'not-covered' | 'indeterminate';
  paNeeded?: 'auth-needed' | 'no-auth';
  docNeeded?: { doc: 'clinical'; purpose: 'withpa' | 'withorder' };
  reasons: CodeableConcept[];
}

function criterionLine(c: CriterionResult, pack: PolicyPack): string {
  return `${pack.manifest.criteria[c.id]?.title ?? c.id} (${c.id})${c.note ? `: ${c.note}` : ''}`;
}

function assertionFor(outcome: OrderOutcome, payer: PayerConfig, pack: PolicyPack): Assertion {
  if ('failure' in outcome) {
    return {
      covered: 'indeterminate',
      reasons: [
        {
          coding: [{ system: ASSERTION_REASON_SYSTEM, code: 'technical', display: 'Technical issues' }],
          text: `Policy ${pack.id} could not be checked for this order: ${outcome.failure}`,
        },
      ],
    };
  }
  const e = outcome.evaluation;
  const status = (id: string) => e.criteria.find((c) => c.id === id)?.status;
  if (status('age-18') === 'not-met') {
    return { covered: 'indeterminate', reasons: [{ text: `Policy ${pack.id} does not address individuals under 18` }] };
  }
  const notMet = e.criteria.filter((c) => c.status === 'not-met');
  if (notMet.length > 0) {
    // CRD crd-ci-q2: no pa-needed on a not-covered assertion.
    return { covered: 'not-covered', reasons: notMet.map((c) => ({ text: `Not met: ${criterionLine(c, pack)}` })) };
  }
  const paNeeded = priorAuthFor(payer, e.code.code);
  const notDocumented = e.criteria.filter((c) => c.status === 'not-documented');
  const undetermined = e.pathway === pack.undeterminedPathway;
  if (undetermined || notDocumented.length > 0) {
    const reasons: CodeableConcept[] = [
      ...(undetermined ? [{ text: 'Not documented: a diagnosis that indicates the ordered service' }] : []),
      ...notDocumented.map((c) => ({ text: `Not documented: ${criterionLine(c, pack)}` })),
    ];
    return { covered: 'covered', paNeeded, docNeeded: { doc: 'clinical', purpose: paNeeded === 'no-auth' ? 'withorder' : 'withpa' }, reasons };
  }
  const external = pack.manifest.pathways[e.pathway]?.externalCriteria ? pack.manifest.externalCriteria : undefined;
  const reasons = external ? [{ text: `${external.name} decides medical necessity at prior authorization` }] : [];
  return { covered: 'covered', paNeeded, reasons };
}

export function buildCoverageInformation(outcome: OrderOutcome, ctx: CoverageInformationContext): Extension {
  const a = assertionFor(outcome, ctx.payer, ctx.pack);
  // CRD hook-19: a secondary hook (order-select) never asks for clinical or administrative documentation.
  const docNeeded = ctx.hook === 'order-sign' ? a.docNeeded : undefined;
  const sub: Extension[] = [
    { url: 'coverage', valueReference: { reference: ctx.coverageReference } },
    { url: 'covered', valueCode: a.covered },
    ...(a.paNeeded ? [{ url: 'pa-needed', valueCode: a.paNeeded }] : []),
    ...(docNeeded
      ? [
          { url: 'doc-needed', valueCode: docNeeded.doc },
          { url: 'doc-purpose', valueCode: docNeeded.purpose },
        ]
      : []),
    ...a.reasons.map((reason) => ({ url: 'reason', valueCodeableConcept: reason })),
    {
      url: 'detail',
      extension: [
        { url: 'category', valueCode: 'cat-decisional' },
        { url: 'code', valueCodeableConcept: { coding: [{ system: COVERAGE_DETAIL_SYSTEM, code: 'policy-link', display: 'Policy Link' }] } },
        { url: 'value', valueUrl: ctx.policyPageUrl },
      ],
    },
    // crd-ci-q1: a questionnaire only where documentation is asked for.
    ...(docNeeded && ctx.payer.questionnaire ? [{ url: 'questionnaire', valueCanonical: ctx.payer.questionnaire }] : []),
    { url: 'date', valueDate: ctx.callDate },
    { url: 'coverage-assertion-id', valueString: ctx.newAssertionId() },
  ];
  return { url: COVERAGE_INFORMATION_URL, extension: sub };
}
