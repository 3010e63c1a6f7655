/**
 * A cql-execution data source holding one patient's record, indexed by resource type and by code, so a coded
 * retrieve ([Observation: "Pain Score"]) looks up the few matching resources instead of scanning thousands.
 * Resources are wrapped with cql-exec-fhir's FHIR 4.0.1 model (parsed once per process by the engine) lazily, once each.
 */
import type { Resource } from 'fhir/r4';
import { matchKeys, PolicyValueSet } from './value-sets';

/** cql-exec-fhir's wrapper factory (created once: it parses a 760 KB model info). */
export interface FhirWrapper {
  wrap(json: unknown): FhirObject;
  /** The parsed model info: whether a resourceType names a FHIR class. */
  _modelInfo?: { findClass(name: string): unknown };
}
export type FhirObject = object;

interface RetrieveDetails {
  datatype?: string;
  codeProperty?: string;
  codes?: PolicyValueSet | Array<{ code?: string; system?: string }>;
}

// The code element each retrievable type is indexed by: the model info's primaryCodePath for the types the CQL reads.
const CODE_ELEMENT: Record<string, (r: Record<string, unknown>) => unknown> = {
  Condition: (r) => r.code,
  Observation: (r) => r.code,
  Procedure: (r) => r.code,
  AllergyIntolerance: (r) => r.code,
  ServiceRequest: (r) => r.code,
  DeviceRequest: (r) => r.codeCodeableConcept,
  MedicationRequest: (r) => r.medicationCodeableConcept,
  MedicationStatement: (r) => r.medicationCodeableConcept,
};
const PRIMARY_CODE_PATH: Record<string, string> = {
  Condition: 'code', Observation: 'code', Procedure: 'code', AllergyIntolerance: 'code', ServiceRequest: 'code',
  DeviceRequest: 'code', MedicationRequest: 'medication', MedicationStatement: 'medication',
};

class Entry {
  private wrapped?: FhirObject;
  constructor(readonly json: Resource, private readonly wrapper: FhirWrapper) {}
  get object(): FhirObject {
    return (this.wrapped ??= identifiedByReference(this.wrapper.wrap(this.json), `${this.json.resourceType}/${this.json.id}`, this.wrapper));
  }
}

/**
 * cql-execution de-duplicates query results (every query without `return all`, every union) by building a deep
 * value key of each item from its enumerable properties; on a cql-exec-fhir resource that walks and re-wraps the
 * whole resource, which dominated evaluation time. A resource's identity is its `Type/id` (the record holds each
 * once), so the engine gets a view whose only own enumerable property is that reference; element getters, `get`
 * and the type information are inherited from the wrapped resource, so property access in CQL is unchanged.
 */
function identifiedByReference(object: FhirObject, reference: string, wrapper: FhirWrapper): FhirObject {
  return withMemoizedGet(Object.create(object, { recordReference: { value: reference, enumerable: true } }), wrapper);
}

type Gettable = { get(field: string): unknown };

/**
 * cql-exec-fhir re-wraps an element (and re-parses a date) on every property access; the CQL reads the same
 * elements many times per evaluation. Each object's `get` is memoized per field for the life of the evaluation,
 * and so are the objects it returns. Added as an own non-enumerable property, so value equality is unaffected.
 */
function withMemoizedGet<T extends object>(object: T, wrapper: FhirWrapper): T {
  const inherited = (object as unknown as Gettable).get;
  const cache = new Map<string, unknown>();
  Object.defineProperty(object, 'get', {
    enumerable: false,
    value(this: Gettable, field: string): unknown {
      if (cache.has(field)) return cache.get(field);
      const value = memoizedValue(inherited.call(this, field), wrapper);
      cache.set(field, value);
      return value;
    },
  });
  return object;
}

/**
 * cql-exec-fhir types a resource inside another (`contained`) as the element's declared type, FHIR.Resource, so
 * `R is FHIR.Medication` never holds and its elements cannot be read; such a resource is re-wrapped as its own
 * resourceType (criteria.md section 3: a contained Medication is read like a separate one).
 */
function memoizedValue(value: unknown, wrapper: FhirWrapper): unknown {
  if (Array.isArray(value)) return value.map((v) => memoizedValue(v, wrapper));
  if (value !== null && typeof value === 'object' && '_json' in value && typeof (value as unknown as Gettable).get === 'function') {
    const { _json: json, _typeInfo: typeInfo } = value as { _json: { resourceType?: unknown }; _typeInfo?: { name?: string } };
    const generic = typeInfo?.name === 'Resource' || typeInfo?.name === 'DomainResource';
    const typed = generic && typeof json?.resourceType === 'string' && wrapper._modelInfo?.findClass(json.resourceType) ? wrapper.wrap(json) : value;
    return withMemoizedGet(typed, wrapper);
  }
  return value;
}

export class IndexedPatient {
  private readonly byType = new Map<string, Entry[]>();
  private readonly byCode = new Map<string, Entry[]>();
  private readonly patient?: Entry;

  constructor(resources: Resource[], wrapper: FhirWrapper) {
    for (const json of resources) {
      const entry = new Entry(json, wrapper);
      push(this.byType, json.resourceType, entry);
      const concept = CODE_ELEMENT[json.resourceType]?.(json as unknown as Record<string, unknown>) as
        | { coding?: Array<{ system?: string; code?: string }> }
        | undefined;
      const keys = new Set((concept?.coding ?? []).flatMap((c) => matchKeys(c.system, c.code)));
      for (const key of keys) push(this.byCode, `${json.resourceType}#${key}`, entry);
      if (json.resourceType === 'Patient' && !this.patient) this.patient = entry;
    }
  }

  getId(): string {
    return this.patient?.json.id ?? 'unknown-patient';
  }

  findRecords(_profile: string, details?: RetrieveDetails): FhirObject[] {
    const type = (details?.datatype ?? _profile).replace(/^\{[^}]*\}/, '').replace(/^.*\/StructureDefinition\//, '');
    const codes = details?.codes;
    const codeProperty = details?.codeProperty ?? PRIMARY_CODE_PATH[type];
    if (!codes || codeProperty !== PRIMARY_CODE_PATH[type]) return (this.byType.get(type) ?? []).map((e) => e.object);
    const wanted = codes instanceof PolicyValueSet ? [...codes.keys] : codes.flatMap((c) => matchKeys(c.system, c.code));
    const found = new Set<Entry>();
    for (const key of wanted) for (const entry of this.byCode.get(`${type}#${key}`) ?? []) found.add(entry);
    // Keep record order so results do not depend on the value set's order.
    return (this.byType.get(type) ?? []).filter((e) => found.has(e)).map((e) => e.object);
  }

  findRecord(profile: string, details?: RetrieveDetails): FhirObject | undefined {
    return this.findRecords(profile, details)[0];
  }
}

/** The patient source protocol of cql-execution, for exactly one patient. */
export class SinglePatientSource {
  private done = false;
  constructor(private readonly patient: IndexedPatient) {}
  currentPatient(): IndexedPatient | undefined {
    return this.done ? undefined : this.patient;
  }
  nextPatient(): IndexedPatient | undefined {
    this.done = true;
    return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
