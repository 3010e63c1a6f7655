/**
 * The one entry point of the policy layer: `loadPolicyEngine()` loads every policy pack (policies/<id>/: ELM, value
 * sets, settings) and the FHIR model once; `engine.evaluateOrder(record, order, { policy })` evaluates one draft
 * order against one pack and returns the `policy-evaluation` extension of criteria.md section 4. Every clinical
 * decision is made by the pack's CQL; this module only moves data in and out, and knows no policy by name.
 */
import path from 'node:path';
import { Date as CqlDate, DateTime, Executor } from 'cql-execution';
import type { Resource } from 'fhir/r4';
import { loadPacks, type PolicyPack } from '../packs/load-packs';
import { PROJECT_ROOT } from '../project-root';
import { loadElmLibrary } from './elm';
import { fhirModel, type FhirModel } from './fhir-model';
import { CallRecord, leanRecordSource, PreparedDrafts, type RecordSourceFactory } from './prepared-record';
import { SinglePatient } from './record-source';
import { loadValueSets, type PolicyCodeService } from './value-sets';
import { toEvaluationDates, toPolicyEvaluation, type EvaluationTuple } from './evaluation-result';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, Phase, PolicyEngine, PreparedRecord, DraftOrder } from './types';

/**
 * The parameters through which the engine hands every pack's library the call: `Type/id` of the order, of every
 * draft order, the call date and an optional order date. A pack's library must declare them.
 */
const ENGINE_PARAMETERS = ['Order Reference', 'Draft Order References', 'Call Date', 'Order Date Override'] as const;

export interface EngineLocations {
  /** Packs already loaded (the app and the engine share them); default: loaded from `roots`. */
  packs?: PolicyPack[];
  /** Folders whose sub-folders are packs; default <root>/policies. */
  roots?: string[];
  elmDir?: string;
  /** Replaces the value set folder of the one loaded pack (for tests of broken value sets). */
  valueSetDir?: string;
  /** The data source the CQL reads the record through (default: ./record-source.ts); tests compare others with it. */
  recordSource?: RecordSourceFactory;
}

/** One pack ready to evaluate: its library, its value sets and the parameters the deployment sets. */
interface LoadedPack {
  pack: PolicyPack;
  library: ConstructorParameters<typeof Executor>[0];
  codeService: PolicyCodeService;
}

export async function loadPolicyEngine(locations: EngineLocations = {}): Promise<PolicyEngine> {
  const elmDir = locations.elmDir ?? path.join(PROJECT_ROOT, 'build', 'elm');
  const packs = locations.packs ?? loadPacks({ roots: locations.roots, elmDir });
  if (locations.valueSetDir !== undefined && packs.length !== 1) throw new Error('valueSetDir replaces the value sets of one pack only');
  const loaded = packs.map((pack): LoadedPack => {
    const { library, elm } = loadElmLibrary(elmDir, pack.manifest.cql.library);
    const declared = new Set((elm.library.parameters?.def ?? []).map((d) => d.name));
    const undeclared = ENGINE_PARAMETERS.filter((name) => !declared.has(name));
    if (undeclared.length > 0) throw new Error(`${pack.manifest.cql.library}.cql (pack ${pack.id}) must declare the parameters ${undeclared.join(', ')}`);
    const valueSetDir = locations.valueSetDir ?? pack.valueSetDir;
    const codeService = loadValueSets(valueSetDir);
    assertValueSetsPresent(pack.manifest.cql.library, elm.library.valueSets?.def ?? [], codeService, valueSetDir);
    return { pack, library, codeService };
  });
  return new CqlPolicyEngine(loaded, fhirModel(), locations.recordSource ?? leanRecordSource);
}

function assertValueSetsPresent(library: string, defs: Array<{ name: string; id: string }>, codes: PolicyCodeService, dir: string): void {
  const missing = defs.filter((d) => !codes.findValueSet(d.id));
  if (missing.length > 0) {
    throw new Error(`value sets referenced by ${library}.cql are missing from ${dir}: ${missing.map((d) => d.id).join(', ')}`);
  }
}

class CqlPolicyEngine implements PolicyEngine {
  private readonly byId: Map<string, LoadedPack>;
  readonly packs: readonly PolicyPack[];

  constructor(
    loaded: LoadedPack[],
    private readonly model: FhirModel,
    private readonly recordSource: RecordSourceFactory,
  ) {
    this.byId = new Map(loaded.map((l) => [l.pack.id, l]));
    this.packs = loaded.map((l) => l.pack);
  }

  /** The pack named by the call; with a single pack loaded, naming it is optional. */
  private packFor(policy: string | undefined): LoadedPack {
    const loaded = policy === undefined ? (this.byId.size === 1 ? [...this.byId.values()][0] : undefined) : this.byId.get(policy);
    if (!loaded) throw new Error(policy === undefined ? 'several policy packs are loaded: name the policy' : `no policy pack "${policy}" is loaded`);
    return loaded;
  }

  prepareRecord(patientData: PatientData, draftOrders: readonly unknown[] | PreparedRecord): CallRecord {
    const drafts = draftOrders instanceof CallRecord ? draftOrders.drafts : new PreparedDrafts(Array.isArray(draftOrders) ? draftOrders : [], this.model);
    return new CallRecord(drafts, patientData, this.model, this.recordSource);
  }

  async evaluateOrder(data: PreparedRecord | PatientData, order: DraftOrder, options: EvaluateOptions = {}): Promise<OrderEvaluationResult> {
    const loaded = this.packFor(options.policy);
    const record = data instanceof CallRecord ? data : this.prepareRecord(data, withOrder(order, options.draftOrders));
    // What intake left out, as known after the evaluation (record resources are checked when the CQL reads them).
    const skipped = () => [...record.leftOut];
    const orderRef = record.drafts.references.get(order);
    if (!orderRef) return { evaluation: null, skipped: skipped() };
    try {
      const tuple = await this.run<EvaluationTuple>(loaded, loaded.pack.manifest.cql.evaluation, record, orderRef, options);
      if (!tuple) return { evaluation: null, skipped: skipped() };
      return { evaluation: toPolicyEvaluation(tuple, loaded.pack.id), skipped: skipped(), dates: toEvaluationDates(tuple) };
    } catch (error) {
      // The CQL met data it could not handle; report it rather than guess an evaluation.
      return { evaluation: null, skipped: skipped(), error: `the policy could not be evaluated: ${(error as Error).message ?? String(error)}` };
    }
  }

  async orderPhase(order: DraftOrder, options: Pick<EvaluateOptions, 'draftOrders' | 'policy' | 'parameters'> & { record?: PreparedRecord } = {}): Promise<Phase | null> {
    const loaded = this.packFor(options.policy);
    const record = options.record instanceof CallRecord ? options.record : this.prepareRecord([], withOrder(order, options.draftOrders));
    const orderRef = record.drafts.references.get(order);
    if (!orderRef) return null;
    try {
      return (await this.run<Phase>(loaded, loaded.pack.manifest.cql.phase, record, orderRef, options)) ?? null;
    } catch {
      // Undecidable without the record: let the full evaluation run and report.
      return null;
    }
  }

  /** Evaluates one expression of the pack's library for one draft order against a prepared record. */
  private async run<T>(loaded: LoadedPack, expression: string, record: CallRecord, orderRef: string, options: EvaluateOptions): Promise<T | null | undefined> {
    const parameters = {
      ...loaded.pack.deploymentParameters,
      ...options.parameters,
      'Order Reference': orderRef,
      'Draft Order References': [...new Set(record.drafts.references.values())],
      'Call Date': CqlDate.parse(options.callDate ?? new Date().toISOString().slice(0, 10)),
      // cql-execution hands back its own definition object for a parameter with no default that is not passed.
      'Order Date Override': options.orderDate ? CqlDate.parse(options.orderDate) : null,
    } satisfies Record<(typeof ENGINE_PARAMETERS)[number], unknown> & Record<string, unknown>;
    const executor = new Executor(loaded.library, loaded.codeService as never, parameters);
    const results = await executor.exec_expression(expression, new SinglePatient(record.source), DateTime.fromJSDate(new Date(), 0));
    const patientResults = Object.values(results.patientResults)[0] as Record<string, T | null> | undefined;
    return patientResults?.[expression];
  }
}

/** The draft orders with the order to evaluate among them. */
function withOrder(order: DraftOrder, draftOrders: readonly unknown[] = []): readonly unknown[] {
  return draftOrders.includes(order) ? draftOrders : [order, ...draftOrders];
}
