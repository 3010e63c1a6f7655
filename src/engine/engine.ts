/**
 * The one entry point of the policy layer: `loadPolicyEngine()` loads the ELM, the value sets and the FHIR model
 * once; `engine.evaluateOrder(record, order, options)` evaluates one draft order and returns the
 * `policy-evaluation` extension of criteria.md section 4. Every clinical decision is made by the CQL
 * (cql/ImplantedSpinalDrugDelivery.cql); this module only moves data in and out.
 */
import path from 'node:path';
import { Date as CqlDate, DateTime, Executor } from 'cql-execution';
import type { Resource } from 'fhir/r4';
import { PROJECT_ROOT } from '../project-root';
import { loadElmLibrary } from './elm';
import { fhirModel, type FhirModel } from './fhir-model';
import { CallRecord, leanRecordSource, PreparedDrafts, type RecordSourceFactory } from './prepared-record';
import { SinglePatient } from './record-source';
import { loadValueSets, type PolicyCodeService } from './value-sets';
import { toPolicyEvaluation, type EvaluationTuple } from './evaluation-result';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, Phase, PolicyEngine, PreparedRecord, PumpOrder } from './types';

export const POLICY_LIBRARY = 'ImplantedSpinalDrugDelivery';

export interface EngineLocations {
  elmDir?: string;
  valueSetDir?: string;
  /** The data source the CQL reads the record through (default: ./record-source.ts); tests compare others with it. */
  recordSource?: RecordSourceFactory;
}

export async function loadPolicyEngine(locations: EngineLocations = {}): Promise<PolicyEngine> {
  const elmDir = locations.elmDir ?? path.join(PROJECT_ROOT, 'build', 'elm');
  const valueSetDir = locations.valueSetDir ?? path.join(PROJECT_ROOT, 'policies', '2022T0626C', 'valuesets');
  const { library, elm } = loadElmLibrary(elmDir, POLICY_LIBRARY);
  const codeService = loadValueSets(valueSetDir);
  assertValueSetsPresent(elm.library.valueSets?.def ?? [], codeService, valueSetDir);
  return new CqlPolicyEngine(library, codeService, fhirModel(), locations.recordSource ?? leanRecordSource);
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
    private readonly model: FhirModel,
    private readonly recordSource: RecordSourceFactory,
  ) {}

  prepareRecord(patientData: PatientData, draftOrders: readonly unknown[] | PreparedRecord): CallRecord {
    const drafts = draftOrders instanceof CallRecord ? draftOrders.drafts : new PreparedDrafts(Array.isArray(draftOrders) ? draftOrders : [], this.model);
    return new CallRecord(drafts, patientData, this.model, this.recordSource);
  }

  async evaluateOrder(data: PreparedRecord | PatientData, order: PumpOrder, options: EvaluateOptions = {}): Promise<OrderEvaluationResult> {
    const record = data instanceof CallRecord ? data : this.prepareRecord(data, withOrder(order, options.draftOrders));
    const skipped = [...record.leftOut];
    const orderRef = record.drafts.references.get(order);
    if (!orderRef) return { evaluation: null, skipped };
    try {
      const tuple = await this.run<EvaluationTuple>('Evaluation', record, orderRef, options);
      return { evaluation: tuple ? toPolicyEvaluation(tuple) : null, skipped };
    } catch (error) {
      // The CQL met data it could not handle; report it rather than guess an evaluation.
      return { evaluation: null, skipped, error: `the policy could not be evaluated: ${(error as Error).message ?? String(error)}` };
    }
  }

  async orderPhase(order: PumpOrder, options: Pick<EvaluateOptions, 'draftOrders' | 'requireTrialAgent'> & { record?: PreparedRecord } = {}): Promise<Phase | null> {
    const record = options.record instanceof CallRecord ? options.record : this.prepareRecord([], withOrder(order, options.draftOrders));
    const orderRef = record.drafts.references.get(order);
    if (!orderRef) return null;
    try {
      return (await this.run<Phase>('Phase', record, orderRef, options)) ?? null;
    } catch {
      // Undecidable without the record: let the full evaluation run and report.
      return null;
    }
  }

  /** Evaluates one expression of the policy library for one draft order against a prepared record. */
  private async run<T>(expression: string, record: CallRecord, orderRef: string, options: EvaluateOptions): Promise<T | null | undefined> {
    const parameters = {
      'Order Reference': orderRef,
      'Draft Order References': [...new Set(record.drafts.references.values())],
      'Call Date': CqlDate.parse(options.callDate ?? new Date().toISOString().slice(0, 10)),
      // cql-execution hands back its own definition object for a parameter with no default that is not passed.
      'Order Date Override': options.orderDate ? CqlDate.parse(options.orderDate) : null,
      'Require Trial Agent': options.requireTrialAgent ?? true,
    };
    const executor = new Executor(this.library, this.codeService as never, parameters);
    const results = await executor.exec_expression(expression, new SinglePatient(record.source), DateTime.fromJSDate(new Date(), 0));
    const patientResults = Object.values(results.patientResults)[0] as Record<string, T | null> | undefined;
    return patientResults?.[expression];
  }
}

/** The draft orders with the order to evaluate among them. */
function withOrder(order: PumpOrder, draftOrders: readonly unknown[] = []): readonly unknown[] {
  return draftOrders.includes(order) ? draftOrders : [order, ...draftOrders];
}
