/**
 * How long an order-sign call with full prefetch takes through HTTP, and how much of it is the
 * evaluation itself. Starts the service with the real policy engine on a local port, sends 500
 * sequential calls for a synthetic patient of about 50 resources, and prints median and p95.
 *
 *   npx tsx scripts/bench-hooks.ts [calls]
 *
 * Needs the ELM (`npm run build:cql`). A script that prints figures, not a test.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Bundle, FhirResource, ServiceRequest } from 'fhir/r4';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { loadPolicyEngine } from '../src/engine/engine';
import { silentLogger } from '../src/cds-hooks/logger';
import { loadSecurityConfig } from '../src/security/config';

const CALLS = Number(process.argv[2] ?? 500);
const WARMUP = 20;
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const PATIENT_ID = 'itp-cnmp-implant-met';

/** The fixture patient whose implant order meets every criterion, plus ordinary history up to ~50 resources. */
function patientRecord(): FhirResource[] {
  const bundle: Bundle = JSON.parse(readFileSync(path.join(FIXTURES, 'patients', `${PATIENT_ID}.json`), 'utf8'));
  const record = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
  const subject = { reference: `Patient/${PATIENT_ID}` };
  const extra: FhirResource[] = [];
  // Monthly pain scores through 2024-2025, older than any trial baseline window.
  for (let i = 0; i < 20; i++) {
    const month = String((i % 12) + 1).padStart(2, '0');
    extra.push({
      resourceType: 'Observation',
      id: `bench-nrs-${i}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' }] },
      subject,
      effectiveDateTime: `${2024 + Math.floor(i / 12)}-${month}-05`,
      valueInteger: 6 + (i % 3),
    });
  }
  for (const [i, code, display] of [
    [0, 'I10', 'Essential (primary) hypertension'],
    [1, 'E78.5', 'Hyperlipidemia, unspecified'],
    [2, 'K21.9', 'Gastro-esophageal reflux disease without esophagitis'],
    [3, 'E11.9', 'Type 2 diabetes mellitus without complications'],
    [4, 'J45.909', 'Unspecified asthma, uncomplicated'],
    [5, 'M17.11', 'Unilateral primary osteoarthritis, right knee'],
  ] as const) {
    extra.push({
      resourceType: 'Condition',
      id: `bench-cond-${i}`,
      clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
      verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code, display }] },
      subject,
      recordedDate: '2023-02-01',
    });
  }
  for (const [i, code, display] of [
    [0, '29046', 'lisinopril'],
    [1, '83367', 'atorvastatin'],
    [2, '40790', 'pantoprazole'],
    [3, '6809', 'metformin'],
    [4, '435', 'albuterol'],
  ] as const) {
    extra.push({
      resourceType: 'MedicationRequest',
      id: `bench-med-${i}`,
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code, display }] },
      subject,
      authoredOn: '2025-01-15',
    });
  }
  for (let i = 0; i < 5; i++) {
    extra.push({
      resourceType: 'Procedure',
      id: `bench-proc-${i}`,
      status: 'completed',
      code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '99214', display: 'Office visit' }] },
      subject,
      performedDateTime: `2025-0${i + 1}-20`,
    });
  }
  return [...record, ...extra];
}

function prefetch(record: FhirResource[]): Record<string, FhirResource> {
  const searchset = (type: string): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: record.filter((r) => r.resourceType === type).map((resource) => ({ resource, search: { mode: 'match' } })),
  });
  return {
    patient: record.find((r) => r.resourceType === 'Patient')!,
    conditions: searchset('Condition'),
    procedures: searchset('Procedure'),
    observations: searchset('Observation'),
    medicationRequests: searchset('MedicationRequest'),
    medicationStatements: searchset('MedicationStatement'),
    allergies: searchset('AllergyIntolerance'),
    coverage: searchset('Coverage'),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `${label}: median ${percentile(sorted, 50).toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, mean ${mean.toFixed(2)} ms (n=${samples.length})`;
}

async function main(): Promise<void> {
  const engine = await loadPolicyEngine();
  // One client sending 500 calls back to back would meet the per-client rate limit, which is not what is measured.
  const security = loadSecurityConfig({ CDS_RATE_LIMIT_PER_MINUTE: '0' }, { trustClients: false, sandboxFhirPort: 8080 });
  const app = createApp({ engine, config: loadConfig({}), logger: silentLogger, security });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cds-services/intrathecal-pump-order-sign`;

  const record = patientRecord();
  const body = JSON.parse(readFileSync(path.join(FIXTURES, 'requests', 'cnmp-implant-met.json'), 'utf8'));
  delete body.fhirServer;
  body.prefetch = prefetch(record);
  const payload = JSON.stringify(body);

  const call = async (): Promise<number> => {
    const started = performance.now();
    const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: payload });
    const json = (await res.json()) as { cards?: unknown[] };
    const ms = performance.now() - started;
    if (res.status !== 200 || json.cards?.length !== 1) throw new Error(`unexpected answer: HTTP ${res.status}, ${json.cards?.length ?? 0} cards`);
    return ms;
  };

  for (let i = 0; i < WARMUP; i++) await call();
  const http: number[] = [];
  for (let i = 0; i < CALLS; i++) http.push(await call());

  // The same evaluation without HTTP, parsing, validation or rendering: what the service adds is the difference.
  const order = body.context.draftOrders.entry[0].resource as ServiceRequest;
  const draftOrders = body.context.draftOrders.entry.map((e: { resource: FhirResource }) => e.resource);
  const callDate = new Date().toISOString().slice(0, 10);
  const evaluation: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const started = performance.now();
    await engine.evaluateOrder(record, order, { draftOrders, callDate });
    evaluation.push(performance.now() - started);
  }

  console.log(`patient ${PATIENT_ID} + synthetic history: ${record.length} resources, request body ${(payload.length / 1024).toFixed(1)} KiB`);
  console.log(summary('order-sign over HTTP (full prefetch)', http));
  console.log(summary('engine.evaluateOrder alone          ', evaluation));

  server.close();
  await app.closeResources();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
