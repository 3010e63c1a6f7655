/**
 * The fixture patients, requests and expected-results table (fixtures/README.md) must agree with each
 * other and with criteria.md's list of criteria, or the integration test that holds the CQL to the table
 * would test the fixtures instead of the service. No server needed.
 */
import type { Coverage } from 'fhir/r4';
import { isServedPayer } from '../src/crd/coverage';
import { SANDBOX_PAYER } from '../src/crd/payers';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import type { Bundle, FhirResource } from 'fhir/r4';
import { loadPacks } from '../src/packs/load-packs';
import { FIXTURES_DIR, readFixtureTable } from './support/fixture-table';

const ORDER_DATE = '2026-06-15';
const PRACTITIONERS_FILE = 'itp-practitioners.json';

// The criteria of each pathway and phase, as the pack's CQL lists them (its "Criteria" expression, read from the ELM).
const [PACK] = loadPacks();
const criteriaOf = (pathway: string, phase: string): string[] | undefined => PACK.criteria.get(pathway)?.get(phase);

// criteria.md section 1: the order codes the policy governs, by phase.
const CPT = 'http://www.ama-assn.org/go/cpt';
const HCPCS = ['https://bluebutton.cms.gov/resources/codesystem/hcpcs', 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets'];
const TRIAL_CPT = ['62320', '62321', '62322', '62323', '62324', '62325', '62326', '62327'];
const IMPLANT_CPT = ['62350', '62351', '62360', '62361', '62362'];
const IMPLANT_HCPCS = ['E0782', 'E0783'];

type AnyResource = FhirResource & { id: string; [key: string]: unknown };
type Coding = { system?: string; code?: string };
type Concept = { coding?: Coding[]; text?: string } | undefined;

interface PatientFile {
  file: string;
  bundle: Bundle;
  resources: AnyResource[];
}

interface HookRequest {
  hookInstance: string;
  hook: string;
  fhirServer: string;
  context: { userId: string; patientId: string; selections?: string[]; draftOrders: Bundle };
  [key: string]: unknown;
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const jsonFiles = (dir: string): string[] => readdirSync(join(FIXTURES_DIR, dir)).filter((f) => f.endsWith('.json')).sort();
const ref = (r: { resourceType: string; id?: string }): string => `${r.resourceType}/${r.id}`;
const codes = (concept: Concept): string[] => (concept?.coding ?? []).map((c) => `${c.system}|${c.code}`);

const patientFiles: PatientFile[] = jsonFiles('patients').map((file) => {
  const bundle = readJson(join(FIXTURES_DIR, 'patients', file)) as Bundle;
  return { file, bundle, resources: (bundle.entry ?? []).map((e) => e.resource as AnyResource) };
});
const recordResources = patientFiles.flatMap((p) => p.resources);
const recordByRef = new Map(recordResources.map((r) => [ref(r), r]));

const requestFiles = jsonFiles('requests');
const requests = new Map(requestFiles.map((file) => [file.replace(/\.json$/, ''), readJson(join(FIXTURES_DIR, 'requests', file)) as HookRequest]));
const draftOrders = (request: HookRequest): AnyResource[] => (request.context.draftOrders.entry ?? []).map((e) => e.resource as AnyResource);

/** Every `reference` string anywhere inside a value. */
function references(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(references);
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, v]) => (key === 'reference' && typeof v === 'string' ? [v] : references(v)));
  }
  return [];
}

/** The phase that criteria.md section 1 gives an order's code; undefined for a code the policy does not govern. */
function phaseOf(order: AnyResource): 'trial' | 'implant' | undefined {
  const concept = (order.resourceType === 'DeviceRequest' ? order.codeCodeableConcept : order.code) as Concept;
  for (const c of concept?.coding ?? []) {
    if (c.system === CPT && TRIAL_CPT.includes(c.code ?? '')) return 'trial';
    if (c.system === CPT && IMPLANT_CPT.includes(c.code ?? '')) return 'implant';
    if (HCPCS.includes(c.system ?? '') && IMPLANT_HCPCS.includes(c.code ?? '')) return 'implant';
  }
  return undefined;
}

/** The record dates a criterion reads; none may lie after the order date. */
function recordDates(r: AnyResource): string[] {
  const period = r.performedPeriod as { start?: string; end?: string } | undefined;
  return [r.recordedDate, r.onsetDateTime, r.abatementDateTime, r.effectiveDateTime, r.performedDateTime, period?.start, period?.end, r.authoredOn]
    .filter((d): d is string => typeof d === 'string');
}

describe('fixture patient bundles', () => {
  it('exist: at least 17 patients and the practitioners bundle', () => {
    expect(patientFiles.filter((p) => p.file !== PRACTITIONERS_FILE).length).toBeGreaterThanOrEqual(17);
    expect(patientFiles.map((p) => p.file)).toContain(PRACTITIONERS_FILE);
  });

  it.each(patientFiles.map((p) => [p.file, p] as const))('%s is a transaction Bundle of idempotent PUTs', (_file, { bundle }) => {
    expect(bundle.resourceType).toBe('Bundle');
    expect(bundle.type).toBe('transaction');
    expect(bundle.entry?.length).toBeGreaterThan(0);
    for (const entry of bundle.entry ?? []) {
      const resource = entry.resource as AnyResource;
      expect(resource.id).toMatch(/^itp-[a-z0-9-]+$/);
      expect(entry.request).toEqual({ method: 'PUT', url: ref(resource) });
      expect(entry.fullUrl === ref(resource) || /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(entry.fullUrl ?? '')).toBe(true);
    }
  });

  it('use every id and every fullUrl once across all files', () => {
    const ids = recordResources.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const fullUrls = patientFiles.flatMap((p) => (p.bundle.entry ?? []).map((e) => e.fullUrl));
    expect(new Set(fullUrls).size).toBe(fullUrls.length);
  });

  it('resolve every reference to a fixture resource', () => {
    const dangling = recordResources.flatMap((r) => references(r).filter((x) => !recordByRef.has(x)).map((x) => `${ref(r)} -> ${x}`));
    expect(dangling).toEqual([]);
  });

  const patientBundles = patientFiles.filter((p) => p.file !== PRACTITIONERS_FILE);
  it.each(patientBundles.map((p) => [p.file, p] as const))('%s holds one obviously synthetic Patient, named after the file, and an active Coverage', (file, { resources }) => {
    const patients = resources.filter((r) => r.resourceType === 'Patient');
    expect(patients.map((p) => p.id)).toEqual([file.replace(/\.json$/, '')]);
    const patient = patients[0] as AnyResource & { name?: Array<{ family?: string }>; birthDate?: string };
    expect(patient.name?.[0]?.family).toBe('Testpatient');
    expect(patient.birthDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(resources.filter((r) => 'identifier' in r)).toEqual([]);
    const coverage = resources.filter((r) => r.resourceType === 'Coverage');
    expect(coverage).toEqual([expect.objectContaining({ status: 'active', beneficiary: { reference: ref(patient) } })]);
    // The sandbox's configured payer (CRD_PAYERS unset) answers for it: criteria.md section 5.
    expect(isServedPayer(coverage[0] as unknown as Coverage, SANDBOX_PAYER)).toBe(true);
  });

  it.each(patientBundles.map((p) => [p.file, p] as const))('%s refers only to its own patient', (file, { resources }) => {
    const own = `Patient/${file.replace(/\.json$/, '')}`;
    const patientRefs = resources.flatMap((r) => references(r).filter((x) => x.startsWith('Patient/')));
    expect(patientRefs.length).toBeGreaterThan(0);
    expect(patientRefs.filter((x) => x !== own)).toEqual([]);
    for (const r of resources.filter((x) => x.resourceType !== 'Patient' && x.resourceType !== 'Coverage')) {
      expect(references(r.subject ?? r.patient)).toEqual([own]);
    }
  });

  it('date every record on or before the order date', () => {
    const late = recordResources.flatMap((r) => recordDates(r).filter((d) => d.slice(0, 10) > ORDER_DATE).map((d) => `${ref(r)} ${d}`));
    expect(late).toEqual([]);
  });

  it('give Conditions the statuses criteria.md reads', () => {
    for (const c of recordResources.filter((r) => r.resourceType === 'Condition')) {
      const verification = c.verificationStatus as Concept;
      expect(codes(verification)).toHaveLength(1);
      expect(codes(verification)[0]).toMatch(/^http:\/\/terminology\.hl7\.org\/CodeSystem\/condition-ver-status\|/);
      expect(typeof c.recordedDate).toBe('string');
      // FHIR R4 con-5: an entered-in-error Condition carries no clinicalStatus; every other one does.
      const enteredInError = codes(verification)[0].endsWith('|entered-in-error');
      expect(codes(c.clinicalStatus as Concept).map((x) => x.split('|')[0])).toEqual(enteredInError ? [] : ['http://terminology.hl7.org/CodeSystem/condition-clinical']);
    }
  });

  it('give Procedures, Observations and MedicationRequests their status and time', () => {
    for (const r of recordResources) {
      if (r.resourceType === 'Procedure') {
        if (r.status === 'not-done') expect(r.statusReason).toBeDefined();
        else expect(r.performedDateTime ?? r.performedPeriod).toBeDefined();
      }
      if (r.resourceType === 'Observation') {
        expect(r.status).toBe('final');
        expect(typeof r.effectiveDateTime).toBe('string');
      }
      if (r.resourceType === 'MedicationRequest') {
        expect(codes(r.medicationCodeableConcept as Concept)[0]).toMatch(/^http:\/\/www\.nlm\.nih\.gov\/research\/umls\/rxnorm\|\d+$/);
        expect(typeof r.authoredOn).toBe('string');
        expect((r.dispenseRequest as { validityPeriod?: { end?: string } } | undefined)?.validityPeriod?.end).toBeDefined();
        if (r.status === 'stopped') expect(codes(r.statusReason as Concept)[0]).toMatch(/^http:\/\/terminology\.hl7\.org\/CodeSystem\/medicationrequest-status-reason\|/);
      }
    }
  });

  it('link a during-trial score to its trial by partOf in at least one patient', () => {
    const partOf = recordResources.flatMap((r) => (r.resourceType === 'Observation' ? references(r.partOf) : []));
    expect(partOf.some((x) => x.startsWith('Procedure/') && phaseOf(recordByRef.get(x) as AnyResource) === 'trial')).toBe(true);
  });
});

describe('fixture CDS Hooks requests', () => {
  it.each([...requests.entries()])('%s is a complete CDS Hooks request without prefetch or fhirAuthorization', (_name, request) => {
    expect(request.hookInstance).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(['order-sign', 'order-select']).toContain(request.hook);
    expect(request.fhirServer).toBe('http://localhost:8080/fhir');
    expect(request).not.toHaveProperty('prefetch');
    expect(request).not.toHaveProperty('fhirAuthorization');
    expect(recordByRef.has(request.context.userId)).toBe(true);
    expect(recordByRef.get(`Patient/${request.context.patientId}`)?.resourceType).toBe('Patient');
    expect(request.context.draftOrders).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(draftOrders(request).length).toBeGreaterThan(0);
  });

  it.each([...requests.entries()])('%s drafts orders for its patient on the fixed order date', (_name, request) => {
    const orders = draftOrders(request);
    expect(new Set(orders.map(ref)).size).toBe(orders.length);
    for (const order of orders) {
      expect(['ServiceRequest', 'DeviceRequest', 'MedicationRequest']).toContain(order.resourceType);
      expect(order.id).toMatch(/^itp-[a-z0-9-]+$/);
      // Draft orders are not part of the record: their ids must not shadow a record resource.
      expect(recordResources.some((r) => r.id === order.id)).toBe(false);
      expect(order).toMatchObject({ status: 'draft', subject: { reference: `Patient/${request.context.patientId}` }, authoredOn: ORDER_DATE });
      expect(['order', 'proposal']).toContain(order.intent);
      for (const reason of references(order.reasonReference)) {
        expect(recordByRef.get(reason)).toMatchObject({ resourceType: 'Condition', subject: { reference: `Patient/${request.context.patientId}` } });
      }
    }
  });

  it.each([...requests.entries()])('%s selects only drafted orders, and only on order-select', (_name, request) => {
    const selections = request.context.selections;
    if (request.hook === 'order-sign') {
      expect(selections).toBeUndefined();
      return;
    }
    expect(selections?.length).toBeGreaterThan(0);
    const drafted = draftOrders(request).map(ref);
    expect(selections?.filter((s) => !drafted.includes(s))).toEqual([]);
  });

  it('include two order-select requests, one that drafts two pump orders and selects one', () => {
    const selects = [...requests.values()].filter((r) => r.hook === 'order-select');
    expect(selects.length).toBeGreaterThanOrEqual(2);
    expect(selects.some((r) => draftOrders(r).filter((o) => phaseOf(o) === 'implant').length === 2 && r.context.selections?.length === 1)).toBe(true);
  });
});

describe('expected-results table in fixtures/README.md', () => {
  const table = readFixtureTable();

  it('has a row for every request file and a request file for every row', () => {
    expect([...new Set(table.map((row) => row.request))].sort()).toEqual([...requests.keys()].sort());
  });

  it.each(table.map((row) => [row.request, row.order, row] as const))('%s %s: patient and order match the request', (_request, _order, row) => {
    const request = requests.get(row.request) as HookRequest;
    expect(row.patient).toBe(request.context.patientId);
    const rowsOfRequest = table.filter((other) => other.request === row.request);
    if (row.criteria === 'no card') {
      expect(row).toMatchObject({ order: '-', pathway: '-', otherPathways: [] });
      expect(rowsOfRequest).toHaveLength(1);
      return;
    }
    expect(rowsOfRequest.filter((other) => other.order === row.order)).toHaveLength(1);
    const order = draftOrders(request).find((o) => ref(o) === row.order);
    expect(order?.resourceType).toMatch(/^(ServiceRequest|DeviceRequest)$/);
    expect(phaseOf(order as AnyResource)).toBeDefined();
    if (request.hook === 'order-select') expect(request.context.selections).toContain(row.order);
  });

  it.each(table.filter((row) => row.criteria !== 'no card').map((row) => [row.request, row.order, row] as const))(
    '%s %s lists exactly the criteria of its pathway and phase, with allowed statuses',
    (_request, _order, row) => {
      const order = draftOrders(requests.get(row.request) as HookRequest).find((o) => ref(o) === row.order) as AnyResource;
      const phase = phaseOf(order) as 'trial' | 'implant';
      const criteria = row.criteria as Array<{ id: string; status: string }>;
      expect(criteria.map((c) => c.id)).toEqual(criteriaOf(row.pathway, phase));
      for (const { id, status } of criteria) {
        if (status === 'not-applicable') expect([row.pathway, id]).toEqual(['spasticity', 'trial-pain-reduction-documented']);
      }
      expect(row.otherPathways).not.toContain(row.pathway);
      expect(new Set(row.otherPathways).size).toBe(row.otherPathways.length);
      if (row.pathway === 'undetermined') expect(row.otherPathways).toEqual([]);
    },
  );

  it('covers every pathway in both phases, a no-card request and a request with two cards', () => {
    const covered = new Set(
      table
        .filter((row) => row.criteria !== 'no card')
        .map((row) => `${row.pathway}/${phaseOf(draftOrders(requests.get(row.request) as HookRequest).find((o) => ref(o) === row.order) as AnyResource)}`),
    );
    for (const pathway of ['chronic-non-malignant-pain', 'cancer-pain', 'spasticity']) {
      expect(covered).toContain(`${pathway}/trial`);
      expect(covered).toContain(`${pathway}/implant`);
    }
    expect(covered.has('undetermined/trial') || covered.has('undetermined/implant')).toBe(true);
    expect(table.some((row) => row.criteria === 'no card')).toBe(true);
    expect(table.some((row) => table.filter((other) => other.request === row.request).length === 2)).toBe(true);
  });
});
