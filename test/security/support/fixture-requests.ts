/**
 * Valid hook requests built from fixtures/requests/*.json, made self-contained: no fhirServer, and a
 * prefetch holding the fixture patient's record under every key of the service definitions, so the
 * real engine can answer without any FHIR server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, FhirResource, Resource } from 'fhir/r4';
import { FIXTURES_DIR } from '../../support/fixture-table';

export interface FixtureCall {
  /** Request file name without `.json`. */
  name: string;
  path: string;
  body: Record<string, any>;
}

export function patientRecord(patientId: string): FhirResource[] {
  const bundle = JSON.parse(readFileSync(join(FIXTURES_DIR, 'patients', `${patientId}.json`), 'utf8')) as Bundle;
  return (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}

/** The patient's whole record as an EHR would prefetch it, one searchset per key. */
export function prefetchFrom(record: Resource[]): Record<string, Resource> {
  const searchset = (type: string, keep: (r: Resource) => boolean = () => true): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: record
      .filter((r) => r.resourceType === type && keep(r))
      .map((resource) => ({ resource: resource as FhirResource, search: { mode: 'match' as const } })),
  });
  return {
    patient: record.find((r) => r.resourceType === 'Patient')!,
    conditions: searchset('Condition'),
    procedures: searchset('Procedure'),
    observations: searchset('Observation', (r) => (r as { status?: string }).status !== undefined),
    medicationRequests: searchset('MedicationRequest'),
    medicationStatements: searchset('MedicationStatement'),
    allergies: searchset('AllergyIntolerance'),
    coverage: searchset('Coverage', (r) => (r as { status?: string }).status === 'active'),
  };
}

export function fixtureCall(name: string): FixtureCall {
  const body = JSON.parse(readFileSync(join(FIXTURES_DIR, 'requests', `${name}.json`), 'utf8')) as Record<string, any>;
  delete body.fhirServer;
  body.prefetch = prefetchFrom(patientRecord(body.context.patientId));
  return { name, path: `/cds-services/intrathecal-pump-${body.hook}`, body };
}

export function allFixtureCalls(): FixtureCall[] {
  return readdirSync(join(FIXTURES_DIR, 'requests'))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => fixtureCall(file.replace(/\.json$/, '')));
}
