/**
 * What the load and benchmark scripts share: a realistic order-sign request (the fixture patient
 * whose implant order meets every criterion, plus ordinary history), made larger or made unique
 * per call; starting the service as its own process on loopback; percentiles; a process's RSS.
 * Script support, not a test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures');
const PATIENT_ID = 'itp-cnmp-implant-met';

/** The fixture patient whose implant order meets every criterion, plus ordinary history up to ~50 resources. */
export function patientRecord(): FhirResource[] {
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

export function prefetch(record: FhirResource[]): Record<string, FhirResource> {
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

/** The record grown to about `size` resources with yearly-older pain scores (outside every window). */
export function largerRecord(size: number): FhirResource[] {
  const record = patientRecord();
  const subject = { reference: `Patient/${PATIENT_ID}` };
  for (let i = 0; record.length < size; i++) {
    record.push({
      resourceType: 'Observation',
      id: `bulk-nrs-${i}`,
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '72514-3', display: 'Pain severity - 0-10 verbal numeric rating [Score] - Reported' }] },
      subject,
      effectiveDateTime: `${2000 + (i % 20)}-${String((i % 12) + 1).padStart(2, '0')}-05`,
      valueInteger: i % 11,
    });
  }
  return record;
}

/** The fixture order-sign request with `record` as full prefetch (no fhirServer). */
export function hookBody(record: FhirResource[]): Record<string, unknown> & { prefetch: Record<string, FhirResource> } {
  const body = JSON.parse(readFileSync(path.join(FIXTURES, 'requests', 'cnmp-implant-met.json'), 'utf8'));
  delete body.fhirServer;
  body.prefetch = prefetch(record);
  return body;
}

/**
 * The same request made unique: one old pain score carries the call number, so no two calls have
 * the same record and none is answered from the evaluation cache (the load is real evaluations).
 */
export function uniqueBody(template: string, n: number): string {
  return template.replace('"bench-nrs-0"', `"bench-nrs-0-${n}"`);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function ms(value: number): string {
  return Number.isNaN(value) ? '-' : value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** A figure read from /proc for a process and each of its children (the cluster workers), summed. */
function sumOverProcessTree(pid: number, read: (pid: number) => number): number {
  let sum = 0;
  for (const p of [pid, ...childPids(pid)]) {
    try {
      sum += read(p);
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}

/** Resident set size of a process and its children (the cluster workers), in MiB; Linux /proc. */
export function rssMiB(pid: number): number {
  const kb = sumOverProcessTree(pid, (p) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0));
  return kb / 1024;
}

/**
 * CPU time (user and system) a process and its children (the cluster workers) have used, in ms; Linux /proc. Less
 * disturbed than throughput by other load on a shared machine. /proc counts in clock ticks of 10 ms (USER_HZ 100).
 */
export function cpuMs(pid: number): number {
  const ticks = sumOverProcessTree(pid, (p) => {
    // Fields after the command name, which may hold spaces: utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  });
  return ticks * 10;
}

export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningService {
  baseUrl: string;
  pid: number;
  /** ms from spawn to the first answered health check. */
  coldStartMs: number;
  stop(): Promise<void>;
}

/**
 * Starts the CDS service of the checkout at `root` (default: this one) as its own process on
 * 127.0.0.1, through scripts/support/serve-loopback.ts, and waits until /health answers.
 */
export async function startService(env: Record<string, string>, root = path.join(__dirname, '..', '..')): Promise<RunningService> {
  const port = await freePort();
  const entry = path.join(__dirname, 'serve-loopback.ts');
  if (!existsSync(path.join(root, 'src', 'server', 'start-cds-service.ts'))) throw new Error(`${root} has no src/server/start-cds-service.ts`);
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), SERVICE_ROOT: root },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`the service exited during startup (code ${child.exitCode})`);
    try {
      if ((await fetch(`${baseUrl}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 1200) throw new Error('the service did not start within 120 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const coldStartMs = performance.now() - started;
  return {
    baseUrl,
    pid: child.pid as number,
    coldStartMs,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
