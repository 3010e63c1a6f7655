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
import { PROJECT_ROOT } from '../project-root';
import { loadElmLibrary } from './elm';
import { usableResources } from './patient-data';
import { IndexedPatient, SinglePatientSource, type FhirWrapper } from './record-index';
import { loadValueSets, type PolicyCodeService } from './value-sets';
import { toPolicyEvaluation, type EvaluationTuple } from './evaluation-result';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, Phase, PolicyEngine, PumpOrder, SkippedResource } from './types';

export const POLICY_LIBRARY = 'ImplantedSpinalDrugDelivery';

export interface EngineLocations {
  elmDir?: string;
  valueSetDir?: string;
}

export async function loadPolicyEngine(locations: EngineLocations = {}): Promise<PolicyEngine> {
  const elmDir = locations.elmDir ?? path.join(PROJECT_ROOT, 'build', 'elm');
  const valueSetDir = locations.valueSetDir ?? path.join(PROJECT_ROOT, 'policies', '2022T0626C', 'valuesets');
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
    const skipped: SkippedResource[] = [...drafts.skipped, ...record.skipped];
    if (!drafts.orderRef) return { evaluation: null, skipped };
    try {
      const tuple = await this.run<EvaluationTuple>('Evaluation', drafts, record.resources, options);
      return { evaluation: tuple ? toPolicyEvaluation(tuple) : null, skipped };
    } catch (error) {
      // The CQL met data it could not handle; report it rather than guess an evaluation.
      return { evaluation: null, skipped, error: `the policy could not be evaluated: ${(error as Error).message ?? String(error)}` };
    }
  }

  async orderPhase(order: PumpOrder, options: Pick<EvaluateOptions, 'draftOrders' | 'requireTrialAgent'> = {}): Promise<Phase | null> {
    const drafts = draftOrdersWithIds(order, options.draftOrders);
    if (!drafts.orderRef) return null;
    try {
      return (await this.run<Phase>('Phase', drafts, [], options)) ?? null;
    } catch {
      // Undecidable without the record: let the full evaluation run and report.
      return null;
    }
  }

  /** Evaluates one expression of the policy library for the draft orders and the record. */
  private async run<T>(expression: string, drafts: DraftOrders, record: Resource[], options: EvaluateOptions): Promise<T | null | undefined> {
    const draftRefs = new Set(drafts.resources.map((r) => `${r.resourceType}/${r.id}`));
    // A draft order is being placed: when the record holds the same resource, the draft version is the one to read.
    const resources = [...drafts.resources, ...record.filter((r) => !draftRefs.has(`${r.resourceType}/${r.id}`))];
    const parameters = {
      'Order Reference': drafts.orderRef,
      'Draft Order References': [...draftRefs],
      'Call Date': CqlDate.parse(options.callDate ?? new Date().toISOString().slice(0, 10)),
      // cql-execution hands back its own definition object for a parameter with no default that is not passed.
      'Order Date Override': options.orderDate ? CqlDate.parse(options.orderDate) : null,
      'Require Trial Agent': options.requireTrialAgent ?? true,
    };
    const executor = new Executor(this.library, this.codeService as never, parameters);
    const source = new SinglePatientSource(new IndexedPatient(resources, this.wrapper));
    const results = await executor.exec_expression(expression, source as never, DateTime.fromJSDate(new Date(), 0));
    const patientResults = Object.values(results.patientResults)[0] as Record<string, T | null> | undefined;
    return patientResults?.[expression];
  }
}

interface DraftOrders {
  resources: Resource[];
  orderRef?: string;
  skipped: SkippedResource[];
}

/**
 * Draft orders with ids: the order to evaluate is always among them. A draft without an id gets a local one
 * (`draft-N`) so the CQL can tell the order apart and keep drafts out of the record.
 */
function draftOrdersWithIds(order: PumpOrder, draftOrders: Resource[] = []): DraftOrders {
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
