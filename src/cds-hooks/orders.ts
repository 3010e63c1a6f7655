/**
 * Which draft orders go to the evaluator: on order-select the selected ones, on order-sign all
 * (criteria.md section 1). Whether an order is one the policy governs is the evaluator's
 * decision, so every ServiceRequest and DeviceRequest among them is sent; other resource types
 * cannot be such orders and are not.
 */
import type { FhirResource } from 'fhir/r4';
import type { DraftOrder } from '../engine/types';
import type { HookRequest } from './types';

/** Every resource of context.draftOrders (the evaluator reads them for the trial-agent rule). */
export function draftOrderResources(request: HookRequest): FhirResource[] {
  return (request.context.draftOrders.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

function isCandidate(resource: FhirResource): resource is DraftOrder {
  return resource.resourceType === 'ServiceRequest' || resource.resourceType === 'DeviceRequest';
}

export function ordersToEvaluate(request: HookRequest, drafts: FhirResource[]): DraftOrder[] {
  const candidates = drafts.filter(isCandidate);
  if (request.hook === 'order-sign') return candidates;
  const selected = new Set(request.context.selections ?? []);
  return candidates.filter((order) => order.id !== undefined && selected.has(`${order.resourceType}/${order.id}`));
}
