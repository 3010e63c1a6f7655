/**
 * Orders a card offers when a documentation gap has one obvious next step (the pack's `suggestions`). Only gaps
 * the evaluator reported as `not-documented` get one: a `not-met` result is a finding, not a missing record, and
 * no order fixes it. Few and sure beats many and vague, so most gaps (for example a missing prognosis) get none.
 */
import { randomUUID } from 'node:crypto';
import type { CodeableConcept, ServiceRequest } from 'fhir/r4';
import type { CriterionResult } from '../engine/types';
import type { PackSuggestion } from '../packs/pack-schema';
import type { Suggestion } from '../cds-hooks/types';

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
    code: structuredClone(code),
    subject: { reference: `Patient/${ctx.patientId}` },
    ...(ctx.encounterId && { encounter: { reference: `Encounter/${ctx.encounterId}` } }),
    authoredOn: ctx.callDate,
    requester: { reference: ctx.userId },
  };
}

/** At most one suggestion per suggested order, in the pack's order. */
export function suggestionsFor(criteria: readonly CriterionResult[], suggested: readonly PackSuggestion[], ctx: SuggestionContext): Suggestion[] {
  const newId = ctx.newId ?? randomUUID;
  const undocumented = new Set(criteria.filter((c) => c.status === 'not-documented').map((c) => c.id));
  return suggested.filter((order) => order.criteria.some((id) => undocumented.has(id))).map((order) => ({
    label: order.label,
    uuid: newId(),
    isRecommended: true,
    actions: [{ type: 'create', description: order.description, resource: draftOrder(order.code, ctx) }],
  }));
}
