/**
 * The Coverage Information response type (CRD 2.2 cards page): a system action that updates the
 * draft order with a coverage-information extension and changes nothing else (CRD resp-37). An
 * extension already on the order from an earlier call is replaced, since this one supersedes it;
 * when it already says the same thing, no action is sent (CRD resp-29, resp-35, hook-16).
 */
import type { Extension } from 'fhir/r4';
import type { DraftOrder } from '../engine/types';
import { COVERAGE_INFORMATION_URL } from './coverage-information';

export interface SystemAction {
  type: 'update';
  description: string;
  resource: DraftOrder;
}

/** The assertion without what every call renews (its date and id), as comparable text. */
function assertionContent(ext: Extension): string {
  const parts = (Array.isArray(ext.extension) ? ext.extension : []).filter((e) => e?.url !== 'date' && e?.url !== 'coverage-assertion-id');
  return parts.map((e) => JSON.stringify(e)).sort().join('\n');
}

/** Whether the order lacks this assertion: no coverage-information on it says the same about the same Coverage. */
export function isNewInformation(order: DraftOrder, coverageInformation: Extension): boolean {
  const current = assertionContent(coverageInformation);
  const existing = (Array.isArray(order.extension) ? order.extension : []).filter((e) => e?.url === COVERAGE_INFORMATION_URL);
  return !existing.some((e) => assertionContent(e) === current);
}

export function coverageInformationAction(order: DraftOrder, coverageInformation: Extension): SystemAction {
  // Any earlier coverage-information is replaced; every other element stays as received.
  const kept = (Array.isArray(order.extension) ? order.extension : []).filter((e) => e?.url !== COVERAGE_INFORMATION_URL);
  return {
    type: 'update',
    description: 'Record the payer\'s coverage information on the order',
    resource: { ...order, extension: [...kept, coverageInformation] },
  };
}

/** The coverage-assertion-id of every Coverage Information action, in answer order: kept with the call's record. */
export function assertionIdsOf(actions: readonly SystemAction[]): string[] {
  return actions.flatMap((action) =>
    (action.resource.extension ?? [])
      .filter((e) => e.url === COVERAGE_INFORMATION_URL)
      .flatMap((e) => (e.extension ?? []).filter((s) => s.url === 'coverage-assertion-id').map((s) => s.valueString as string)),
  );
}
