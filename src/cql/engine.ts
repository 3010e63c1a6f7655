/**
 * The one entry point of the policy layer: `loadPolicyEngine()` loads the ELM, the value sets and the FHIR model
 * once; `engine.evaluateOrder(record, order, options)` evaluates one draft order and returns the
 * `policy-evaluation` extension of criteria.md section 4. Every clinical decision is made by the CQL
 * (cql/ImplantedSpinalDrugDelivery.cql); this module only moves data in and out.
 */
import path from 'node:path';
import { Date as CqlDate, DateTime, Executor } from 'cql-execution';
import { FHIRWrapper } from 'cql-exec-fhir';
import type { Resource } from 'fhir/r4';
import { loadElmLibrary } from './elm';
import { usableResources } from './patient-data';
import { IndexedPatient, SinglePatientSource, type FhirWrapper } from './record-index';
import { loadValueSets, type PolicyCodeService } from './value-sets';
import { toPolicyEvaluation, type EvaluationTuple } from './evaluation-result';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, PolicyEngine, PumpOrder, SkippedResource } from './types';

export const POLICY_LIBRARY = 'ImplantedSpinalDrugDelivery';
const ROOT = path.resolve(__dirname, '..', '..', __dirname.includes(`${path.sep}dist${path.sep}`) ? '..' : '');

export interface EngineLocations {
  elmDir?: string;
  valueSetDir?: string;
}

export async function loadPolicyEngine(locations: EngineLocations = {}): Promise<PolicyEngine> {
  const elmDir = locations.elmDir ?? path.join(ROOT, 'build', 'elm');
  const valueSetDir = locations.valueSetDir ?? path.join(ROOT, 'cql', 'valuesets');
  const { library, elm } = loadElmLibrary(elmDir, POLICY_LIBRARY);
  const codeService = loadValueSets(valueSetDir);
  assertValueSetsPresent(elm.library.valueSets?.def ?? [], codeService, valueSetDir);
  const wrapper = FHIRWrapper.FHIRv401() as FhirWrapper;
  return new CqlPolicyEngine(library, codeService, wrapper);
}

function assertValueSetsPresent(defs: Array<{ name: string; id: string }>, codes: PolicyCodeService, dir: string): void {
  const missing = defs.filter((d) => !codes.findValueSet(d.id));
  if (missing.length > 0) {
    throw new Error(`value sets referenced by ${POLICY_LIBRARY}.cql are missing from ${dir}: ${missing.map((d) => d.id).join(', ')}`);
  }
}

class CqlPolicyEngine implements PolicyEngine {
  constructor(
    private readonly library: ConstructorParameters<typeof Executor>[0],
    private readonly codeService: PolicyCodeService,
    private readonly wrapper: FhirWrapper,
  ) {}

  async evaluateOrder(patientData: PatientData, order: PumpOrder, options: EvaluateOptions = {}): Promise<OrderEvaluationResult> {
    const drafts = draftOrdersWithIds(order, options.draftOrders);
    const record = usableResources(patientData);
    const draftRefs = new Set(drafts.resources.map((r) => `${r.resourceType}/${r.id}`));
    // A draft order is being placed: when the record holds the same resource, the draft version is the one to read.
    const resources = [...drafts.resources, ...record.resources.filter((r) => !draftRefs.has(`${r.resourceType}/${r.id}`))];
    const skipped: SkippedResource[] = [...drafts.skipped, ...record.skipped];
    const orderRef = drafts.orderRef;
    if (!orderRef) return { evaluation: null, skipped };

    const parameters = {
      'Order Reference': orderRef,
      'Draft Order References': [...draftRefs],
      'Call Date': CqlDate.parse(options.callDate ?? new Date().toISOString().slice(0, 10)),
      // cql-execution hands back its own definition object for a parameter with no default that is not passed.
      'Order Date Override': options.orderDate ? CqlDate.parse(options.orderDate) : null,
      'Require Trial Agent': options.requireTrialAgent ?? true,
    };
    try {
      const executor = new Executor(this.library, this.codeService as never, parameters);
      const source = new SinglePatientSource(new IndexedPatient(resources, this.wrapper));
      const results = await executor.exec_expression('Evaluation', source as never, DateTime.fromJSDate(new Date(), 0));
      const patientResults = Object.values(results.patientResults)[0] as { Evaluation?: EvaluationTuple | null } | undefined;
      const tuple = patientResults?.Evaluation;
      return { evaluation: tuple ? toPolicyEvaluation(tuple) : null, skipped };
    } catch (error) {
      // The CQL met data it could not handle; report it rather than guess an evaluation.
      return { evaluation: null, skipped, error: `the policy could not be evaluated: ${(error as Error).message ?? String(error)}` };
    }
  }
}

/**
 * Draft orders with ids: the order to evaluate is always among them. A draft without an id gets a local one
 * (`draft-N`) so the CQL can tell the order apart and keep drafts out of the record.
 */
function draftOrdersWithIds(order: PumpOrder, draftOrders: Resource[] = []): { resources: Resource[]; orderRef?: string; skipped: SkippedResource[] } {
  const all = draftOrders.includes(order as Resource) ? draftOrders : [order as Resource, ...draftOrders];
  const withIds = all.map((r, i) =>
    r && typeof r === 'object' && typeof r.resourceType === 'string' && typeof r.id !== 'string' ? { ...r, id: `draft-${i + 1}` } : r,
  );
  const { resources, skipped } = usableResources(withIds);
  const index = all.indexOf(order as Resource);
  const target = withIds[index] as Resource | undefined;
  const orderRef = target && resources.includes(target) ? `${target.resourceType}/${target.id}` : undefined;
  return { resources, orderRef, skipped: skipped.map((s) => ({ ...s, reference: `draftOrders: ${s.reference}` })) };
}
