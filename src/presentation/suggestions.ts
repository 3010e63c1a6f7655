/**
 * Orders a card offers when a documentation gap has one obvious next step. Only gaps the
 * evaluator reported as `not-documented` get one: a `not-met` result is a finding, not a
 * missing record, and no order fixes it. Few and sure beats many and vague, so most gaps
 * (for example a missing prognosis) get none.
 */
import { randomUUID } from 'node:crypto';
import type { CodeableConcept, ServiceRequest } from 'fhir/r4';
import type { CriterionResult } from '../engine/types';
import type { Suggestion } from '../cds-hooks/types';

const CPT = 'http://www.ama-assn.org/go/cpt';

interface SuggestedOrder {
  /** Criteria whose `not-documented` status this order addresses. */
  criteria: readonly string[];
  label: string;
  description: string;
  code: CodeableConcept;
}

const SUGGESTED_ORDERS: readonly SuggestedOrder[] = [
  {
    criteria: ['cnmp-psych-clearance', 'psych-history-documented'],
    label: 'Order a psychological evaluation',
    description: 'Create a draft order for a psychiatric diagnostic evaluation (CPT 90791)',
    code: {
      coding: [{ system: CPT, code: '90791', display: 'Psychiatric diagnostic evaluation' }],
      text: 'Psychological evaluation before intrathecal therapy',
    },
  },
  {
    criteria: ['spasticity-scale-documented', 'spasticity-function-documented'],
    label: 'Order a physical therapy evaluation',
    description:
      'Create a draft order for a physical therapy evaluation (CPT 97163) to record a Modified Ashworth or Penn score and functional status',
    code: {
      coding: [{ system: CPT, code: '97163', display: 'Physical therapy evaluation: high complexity' }],
      text: 'Physical therapy evaluation of spasticity and function',
    },
  },
];

export interface SuggestionContext {
  patientId: string;
  /** context.userId: the requester (the CRD order profiles require one). */
  userId: string;
  encounterId?: string;
  /** authoredOn of the suggested order (YYYY-MM-DD). */
  callDate: string;
  newId?: () => string;
}

/** A draft order valid against the CRD ServiceRequest profile (status, intent, code, subject, authoredOn, requester). */
function draftOrder(code: CodeableConcept, ctx: SuggestionContext): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    code,
    subject: { reference: `Patient/${ctx.patientId}` },
    ...(ctx.encounterId && { encounter: { reference: `Encounter/${ctx.encounterId}` } }),
    authoredOn: ctx.callDate,
    requester: { reference: ctx.userId },
  };
}

/** At most one suggestion per suggested order, in a fixed order. */
export function suggestionsFor(criteria: readonly CriterionResult[], ctx: SuggestionContext): Suggestion[] {
  const newId = ctx.newId ?? randomUUID;
  const undocumented = new Set(criteria.filter((c) => c.status === 'not-documented').map((c) => c.id));
  return SUGGESTED_ORDERS.filter((order) => order.criteria.some((id) => undocumented.has(id))).map((order) => ({
    label: order.label,
    uuid: newId(),
    isRecommended: true,
    actions: [{ type: 'create', description: order.description, resource: draftOrder(order.code, ctx) }],
  }));
}
