/**
 * The Coverage Information response type (CRD 2.2 cards page): a system action that updates the
 * draft order with a coverage-information extension and changes nothing else (CRD resp-37). An
 * extension already on the order from an earlier call is replaced, since this one supersedes it.
 */
import type { Extension } from 'fhir/r4';
import type { PumpOrder } from '../engine/types';
import { COVERAGE_INFORMATION_URL } from './coverage-information';

export interface SystemAction {
  type: 'update';
  description: string;
  resource: PumpOrder;
}

export function coverageInformationAction(order: PumpOrder, coverageInformation: Extension): SystemAction {
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
