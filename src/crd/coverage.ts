/**
 * The patient's Coverage for a CRD answer (criteria.md section 5, CRD hook-13): among the Coverages
 * read from prefetch key `coverage` (or fetched with its query), exactly one must be active and have
 * a `payor` that names a payer this deployment serves. A payor names a payer by the Reference's
 * `identifier`, or by a contained Organization's `identifier`; a bare reference or display names none.
 */
import type { Coverage, FhirResource, Identifier, Organization, Reference } from 'fhir/r4';
import type { PayerConfig } from './payers';

export type CoverageSelection =
  | { kind: 'found'; coverage: Coverage; reference: string }
  | { kind: 'none' | 'unknown-payer' | 'several'; message: string };

/** Records arrive in any shape; a field of the wrong JSON type counts as absent. */
function list<T>(value: unknown): T[] {
  return Array.isArray(value) ? (value.filter((v) => typeof v === 'object' && v !== null) as T[]) : [];
}

function datePart(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, 10) : undefined;
}

function isActiveOn(coverage: Coverage, patientId: string, date: string): boolean {
  if (coverage.status !== 'active') return false;
  const beneficiary = coverage.beneficiary?.reference;
  if (typeof beneficiary === 'string' && beneficiary !== '' && !beneficiary.endsWith(`Patient/${patientId}`)) return false;
  // A period is compared by its date part: a Coverage that ended before the call day is not in force.
  const end = datePart(coverage.period?.end);
  const start = datePart(coverage.period?.start);
  return !(end !== undefined && end < date) && !(start !== undefined && start > date);
}

function payorIdentifiers(coverage: Coverage, payor: Reference): Identifier[] {
  const ids = typeof payor.identifier === 'object' && payor.identifier !== null ? [payor.identifier] : [];
  const ref = payor.reference;
  if (typeof ref === 'string' && ref.startsWith('#')) {
    const contained = list<Organization>(coverage.contained).find((r) => r.id === ref.slice(1) && r.resourceType === 'Organization');
    ids.push(...list<Identifier>(contained?.identifier));
  }
  return ids;
}

export function isServedPayer(coverage: Coverage, payer: PayerConfig): boolean {
  return list<Reference>(coverage.payor).some((payor) =>
    payorIdentifiers(coverage, payor).some((id) => payer.identifiers.some((p) => p.system === id.system && p.value === id.value)),
  );
}

/** `coverageReference`: how the system action refers to it (`Coverage/id`, as the EHR knows it). */
export function selectCoverage(record: readonly FhirResource[], payer: PayerConfig, patientId: string, callDate: string): CoverageSelection {
  const active = record.filter((r): r is Coverage => r.resourceType === 'Coverage' && isActiveOn(r, patientId, callDate));
  if (active.length === 0) return { kind: 'none', message: 'coverage: the patient has no active Coverage' };
  const ours = active.filter((c) => isServedPayer(c, payer));
  if (ours.length === 0) {
    return {
      kind: 'unknown-payer',
      message: `coverage: no active Coverage has a payor identifier of a payer this service answers for (${payer.insurer})`,
    };
  }
  if (ours.length > 1) return { kind: 'several', message: `coverage: ${ours.length} active Coverages with ${payer.insurer}; expected exactly one` };
  const coverage = ours[0];
  if (typeof coverage.id !== 'string' || coverage.id === '') {
    return { kind: 'none', message: 'coverage: the active Coverage has no id, so an assertion cannot refer to it' };
  }
  return { kind: 'found', coverage, reference: `Coverage/${coverage.id}` };
}
