/**
 * Shared pieces of the CDS Hooks HTTP suites: a recording stand-in for the policy engine (for
 * transport tests only; card rules are tested against the real engine), request builders,
 * misbehaving servers, and a walker that finds null or empty values in a response.
 */
import net from 'node:net';
import type { Bundle, FhirResource, Resource, ServiceRequest } from 'fhir/r4';
import { createApp, type AppOptions, type CdsApp } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, Phase, PolicyEngine, PolicyEvaluation, PreparedRecord, DraftOrder } from '../../src/engine/types';
import { silentLogger } from '../../src/cds-hooks/logger';
export { closedPort } from '../support/ports';

export const SIGN = '/cds-services/intrathecal-pump-order-sign';
export const SELECT = '/cds-services/intrathecal-pump-order-select';
export const PATIENT_ID = 'hooks-test-patient';

export interface RecordedCall {
  patientData: PatientData;
  order: DraftOrder;
  options?: EvaluateOptions;
}

/** What the recording engine's prepareRecord hands back: the data as received. */
export interface RecordedData extends PreparedRecord {
  patientData: PatientData;
  draftOrders: readonly unknown[];
}

/**
 * Governs the orders whose id starts with "pump-" and answers a fixed evaluation for them: enough
 * to test what the service sends and how it renders, without pretending to apply the policy.
 */
export class RecordingEngine implements PolicyEngine {
  readonly calls: RecordedCall[] = [];
  /** Ids of the orders whose phase was asked. */
  readonly phaseCalls: Array<string | undefined> = [];
  constructor(private readonly evaluationFor: (order: DraftOrder) => PolicyEvaluation | null = defaultEvaluation) {}

  prepareRecord(patientData: PatientData, draftOrders: readonly unknown[] | PreparedRecord): RecordedData {
    return unreadRecord(patientData, draftOrders);
  }

  async evaluateOrder(data: RecordedData | PatientData, order: DraftOrder, options?: EvaluateOptions): Promise<OrderEvaluationResult> {
    const recorded = data instanceof Object && 'patientData' in data ? (data as RecordedData) : undefined;
    const patientData = recorded ? recorded.patientData : data;
    this.calls.push({ patientData, order, options: recorded ? { ...options, draftOrders: [...recorded.draftOrders] as Resource[] } : options });
    return { evaluation: this.evaluationFor(order), skipped: [] };
  }

  async orderPhase(order: DraftOrder): Promise<Phase | null> {
    this.phaseCalls.push(order.id);
    return this.evaluationFor(order)?.phase ?? null;
  }

  /** `Type/id` of every resource the engine received as the patient's record in call `i`. */
  recordRefs(i = 0): string[] {
    return (this.calls[i].patientData as FhirResource[]).map((r) => `${r.resourceType}/${r.id}`).sort();
  }
}

export function defaultEvaluation(order: DraftOrder): PolicyEvaluation | null {
  if (!order.id?.startsWith('pump-')) return null;
  return {
    policy: '2022T0626C',
    order: `${order.resourceType}/${order.id}`,
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
    phase: 'implant',
    pathway: 'chronic-non-malignant-pain',
    criteria: [
      { id: 'age-18', status: 'met', evidence: [`Patient/${PATIENT_ID}`], note: 'age 54' },
      { id: 'cnmp-psych-clearance', status: 'not-documented', note: 'no psychological evaluation in the 12 months before the order' },
    ],
  };
}

/** For stand-in engines whose evaluation is what a test is about: every order is governed. */
export const everyOrderGoverned = async (): Promise<Phase> => 'implant';

/** For stand-in engines that do not read the record: it is handed back untouched. */
export const unreadRecord = (patientData: PatientData, draftOrders: readonly unknown[] | PreparedRecord): RecordedData => ({
  leftOut: [],
  leftOutOf: () => [],
  patientData,
  draftOrders: Array.isArray(draftOrders) ? draftOrders : (draftOrders as RecordedData).draftOrders,
});

/** The sandbox's defaults (CRD_REQUIRE_COVERAGE false): transport tests need no payer identifiers; test/crd/ tests the payer rules.
 * Evaluation reuse and the per-address limit are off: these tests count what reaches the engine and send many
 * calls from one address (both have their own tests: evaluation-cache.test.ts, cheap-refusals.test.ts). */
export function testConfig(overrides: Partial<Config> = {}): Config {
  const defaults = loadConfig({}, { requireCoverage: false });
  return { ...defaults, evaluationCache: { maxEntries: 0, ttlSeconds: 1 }, http: { ...defaults.http, addressRateLimitPerMinute: 0 }, ...overrides };
}

/** Transport tests point at FHIR servers on random ports; the allowlist itself is tested in security.test.ts. */
export const allowAnyFhirServer: AppOptions['fhirServerPolicy'] = (_issuer, url) => ({ ok: true, url });

export function makeApp(engine: PolicyEngine, options: Partial<AppOptions> = {}): CdsApp {
  return createApp({ engine, config: testConfig(), logger: silentLogger, fhirServerPolicy: allowAnyFhirServer, ...options });
}

export function serviceRequest(id: string, overrides: Partial<ServiceRequest> = {}): ServiceRequest {
  return {
    resourceType: 'ServiceRequest',
    id,
    status: 'draft',
    intent: 'order',
    code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '62362' }] },
    subject: { reference: `Patient/${PATIENT_ID}` },
    ...overrides,
  };
}

export function draftBundle(...resources: Resource[]): Bundle {
  return { resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource: resource as FhirResource })) };
}

/** A valid order-sign body; `overrides` replaces top-level fields, `context` merges into the context. */
export function signRequest(overrides: Record<string, unknown> = {}, context: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook: 'order-sign',
    hookInstance: 'c1d0e4d2-6a43-4cbb-9d55-8f2d7f1c0a11',
    context: {
      userId: 'Practitioner/hooks-test-dr',
      patientId: PATIENT_ID,
      draftOrders: draftBundle(serviceRequest('pump-1')),
      ...context,
    },
    prefetch: fullPrefetch(),
    ...overrides,
  };
}

export function selectRequest(selections: unknown, draftOrders: Bundle, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return signRequest({ hook: 'order-select', ...overrides }, { draftOrders, selections });
}

/** A small record under every prefetch key of hooks/*.json. */
export function fullPrefetch(): Record<string, Resource | null> {
  const searchset = (...resources: Resource[]): Bundle => ({
    resourceType: 'Bundle',
    type: 'searchset',
    entry: resources.map((resource) => ({ resource: resource as FhirResource, search: { mode: 'match' } })),
  });
  const subject = { reference: `Patient/${PATIENT_ID}` };
  return {
    patient: { resourceType: 'Patient', id: PATIENT_ID, birthDate: '1970-03-01' } as Resource,
    conditions: searchset({ resourceType: 'Condition', id: 'pre-cond-1', subject } as Resource),
    procedures: searchset(),
    observations: searchset({ resourceType: 'Observation', id: 'pre-obs-1', status: 'final', code: { text: 'pain' }, subject } as Resource),
    medicationRequests: searchset(),
    medicationStatements: searchset(),
    allergies: searchset(),
    coverage: searchset({ resourceType: 'Coverage', id: 'pre-cov-1', status: 'active', beneficiary: subject, payor: [{ display: 'Payer' }] } as Resource),
  };
}

/** A TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/fhir`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** JSON paths holding null, an empty string, an empty array or an empty object. */
export function emptyValuePaths(value: unknown, path = '$'): string[] {
  if (value === null) return [path];
  // CDS Hooks / CRD: a response's `cards` and order-sign's `systemActions` are present even when empty.
  if ((path === '$.cards' || path === '$.systemActions') && Array.isArray(value) && value.length === 0) return [];
  if (typeof value === 'string') return value === '' ? [path] : [];
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((v, i) => emptyValuePaths(v, `${path}[${i}]`));
  if (typeof value === 'object') {
    const entries = Object.entries(value as object);
    return entries.length === 0 ? [path] : entries.flatMap(([k, v]) => emptyValuePaths(v, `${path}.${k}`));
  }
  return [];
}
