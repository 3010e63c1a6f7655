/**
 * One hook call's data, read once: the draft orders and the patient's record through intake
 * (./record-intake.ts), then indexed once (./record-source.ts). Every order of the call is evaluated against the
 * same `PreparedRecord`, so a call reads, checks and indexes its data once whatever the number of orders.
 */
import type { PatientObject } from 'cql-execution';
import type { Resource } from 'fhir/r4';
import type { FhirModel } from './fhir-model';
import { checkElements, readResourceList, readResources, type LeftOut } from './record-intake';
import { RecordSource, type ElementCheck } from './record-source';
import type { PatientData, PreparedRecord } from './types';

/**
 * Makes the cql-execution data source over a call's resources (draft orders first, then the record), which are
 * resources but whose elements `check` has not seen yet (it must run on each before the CQL reads it).
 */
export type RecordSourceFactory = (resources: readonly Resource[], model: FhirModel, check: ElementCheck) => PatientObject;

export const leanRecordSource: RecordSourceFactory = (resources, model, check) => new RecordSource(model, resources, check);

/** The draft orders of a call, through intake, with an id each. */
export class PreparedDrafts {
  /** `Type/id` of each draft order that could be read, by the object the caller passed. */
  readonly references = new Map<object, string>();
  readonly resources: Resource[];
  readonly leftOut: LeftOut[];

  constructor(draftOrders: readonly unknown[], model: FhirModel) {
    // A draft without an id gets a local one (`draft-N`) so the CQL can tell the order apart and keep drafts out of the record.
    const withIds = draftOrders.map((r, i) =>
      r && typeof r === 'object' && typeof (r as Resource).resourceType === 'string' && typeof (r as Resource).id !== 'string'
        ? { ...(r as Resource), id: `draft-${i + 1}` }
        : r,
    );
    const intake = readResources(withIds, model);
    this.resources = intake.resources;
    this.leftOut = [...intake.skipped, ...intake.dropped].map((item) => ({ ...item, reference: `draftOrders: ${item.reference}` }));
    const read = new Set(this.resources.map((r) => `${r.resourceType}/${r.id}`));
    draftOrders.forEach((original, i) => {
      const r = withIds[i] as Resource | null;
      const reference = r && typeof r === 'object' ? `${r.resourceType}/${r.id}` : undefined;
      if (reference && read.has(reference) && original && typeof original === 'object' && !this.references.has(original)) {
        this.references.set(original, reference);
      }
    });
  }

  /** Elements left out of one draft order (its reference as `draftOrders: Type/id`). */
  leftOutOf(order: object): LeftOut[] {
    const reference = this.references.get(order);
    return reference ? this.leftOut.filter((l) => l.reference === `draftOrders: ${reference}`) : [];
  }
}

export class CallRecord implements PreparedRecord {
  readonly source: PatientObject;
  /** Grows while the orders are evaluated: a record resource's elements are checked when the CQL first reads it. */
  readonly leftOut: LeftOut[];

  leftOutOf(order: unknown): readonly LeftOut[] {
    return order && typeof order === 'object' ? this.drafts.leftOutOf(order) : [];
  }

  constructor(
    readonly drafts: PreparedDrafts,
    patientData: PatientData,
    model: FhirModel,
    makeSource: RecordSourceFactory = leanRecordSource,
  ) {
    const record = readResourceList(patientData, model);
    const draftRefs = new Set(drafts.references.values());
    // A draft order is being placed: when the record holds the same resource, the draft version is the one to read.
    const resources = [...drafts.resources, ...record.resources.filter((r) => !draftRefs.has(`${r.resourceType}/${r.id}`))];
    this.leftOut = [...drafts.leftOut, ...record.skipped];
    // Draft orders were checked whole already (an unreadable order must be known before its phase is decided).
    const checkedDrafts = new Set<Resource>(drafts.resources);
    this.source = makeSource(resources, model, (r) => (checkedDrafts.has(r) ? r : checkElements(r, model, this.leftOut)));
  }
}
