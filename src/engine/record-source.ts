/**
 * The cql-execution data source for one patient: the resources of a hook call (draft orders and record), indexed
 * by resource type and by the codes of its primary code element (the model info's primaryCodePath), so a coded
 * retrieve ([Observation: "Pain Score"]) looks up the few matching resources instead of scanning thousands.
 * ICD-10-CM codings are indexed under every ancestor category too (value-sets.ts), matching the value sets' "and
 * descendants" rule. A resource's elements are checked (record intake, `check`) and it is wrapped in a `FhirNode`
 * when a retrieve first returns it: thousands of resources the CQL never asks for cost an index entry each.
 *
 * cql-execution still applies its own code filter to what a retrieve returns; the index only has to return a
 * superset of the matches, in record order.
 */
import type { AnyTypeSpecifier, DataProvider, PatientObject, RecordObject, RetrieveDetails } from 'cql-execution';
import type { Resource } from 'fhir/r4';
import type { FhirModel, FhirType } from './fhir-model';
import { FhirNode } from './fhir-record';
import { matchKeys, PolicyValueSet } from './value-sets';

/** Checks one resource's elements before the CQL reads it: the resource, or a copy without what cannot be read. */
export type ElementCheck = (resource: Resource) => Resource;

class Indexed {
  private wrapped?: FhirNode;
  /** The keys its primary code is indexed under (value-sets.ts matchKeys of each coding). */
  codeKeys: readonly string[] = [];
  constructor(
    private readonly json: Resource,
    private readonly type: FhirType,
    /** Position in the record, to return retrieves in record order. */
    readonly position: number,
    private readonly source: { model: FhirModel; check: ElementCheck },
  ) {}

  get node(): FhirNode {
    return (this.wrapped ??= new FhirNode(this.source.check(this.json) as never, this.type, this.source.model, `${this.json.resourceType}/${this.json.id}`));
  }
}

/** Where a type's primary code sits in JSON, when it is a CodeableConcept or Coding that can be indexed. */
interface CodeLocation {
  path: string;
  properties: string[];
  concept: boolean;
}

const codeLocations = new WeakMap<FhirType, CodeLocation | null>();

function codeLocation(type: FhirType): CodeLocation | null {
  if (codeLocations.has(type)) return codeLocations.get(type) as CodeLocation | null;
  let location: CodeLocation | null = null;
  const path = type.primaryCodePath;
  const element = path ? type.elements.get(path) : undefined;
  if (path && element && !element.isList) {
    const coded = element.variants.filter((v) => v.type?.name === 'CodeableConcept' || v.type?.name === 'Coding');
    const concept = coded.every((v) => v.type?.name === 'CodeableConcept');
    // Mixed CodeableConcept and Coding choices do not occur in R4; index only a uniform one.
    if (coded.length > 0 && (concept || coded.every((v) => v.type?.name === 'Coding'))) {
      location = { path, properties: coded.map((v) => v.property), concept };
    }
  }
  codeLocations.set(type, location);
  return location;
}

function codingsAt(json: Record<string, unknown>, location: CodeLocation): Array<{ system?: unknown; code?: unknown }> {
  for (const property of location.properties) {
    const value = json[property] as Record<string, unknown> | undefined;
    if (value == null) continue;
    const codings = location.concept ? value.coding : [value];
    return Array.isArray(codings) ? codings.filter((c) => c !== null && typeof c === 'object') : [];
  }
  return [];
}

export class RecordSource implements PatientObject {
  private readonly byType = new Map<string, Indexed[]>();
  private readonly byCode = new Map<string, Indexed[]>();
  private patientEntry?: Indexed;

  constructor(
    readonly model: FhirModel,
    resources: readonly Resource[],
    readonly check: ElementCheck = (r) => r,
  ) {
    resources.forEach((json, position) => {
      const type = model.resourceTypes.get(json.resourceType);
      if (!type) return;
      const entry = new Indexed(json, type, position, this);
      push(this.byType, type.name, entry);
      const location = codeLocation(type);
      if (location) {
        const keys = new Set<string>();
        for (const c of codingsAt(json as never, location)) {
          for (const key of matchKeys(typeof c.system === 'string' ? c.system : undefined, typeof c.code === 'string' ? c.code : undefined)) keys.add(key);
        }
        for (const key of keys) push(this.byCode, `${type.name}#${key}`, entry);
        entry.codeKeys = [...keys];
      }
      if (type.name === 'Patient' && !this.patientEntry) this.patientEntry = entry;
    });
  }

  private get patient(): FhirNode | undefined {
    return this.patientEntry?.node;
  }

  findRecords(profile: string | null, details?: RetrieveDetails): RecordObject[] {
    const type = this.model.find(details?.datatype ?? profile ?? '');
    if (!type) return [];
    const all = this.byType.get(type.name) ?? [];
    const location = codeLocation(type);
    const codes = details?.codes;
    if (!codes || !location || (details?.codeProperty ?? type.primaryCodePath) !== location.path) return all.map((e) => e.node);
    let wanted: Iterable<string>;
    if (codes instanceof PolicyValueSet) {
      // A value set may hold thousands of codes and the record a few resources of the type, or the other way round.
      if (all.length < codes.keys.size) return all.filter((e) => e.codeKeys.some((k) => codes.keys.has(k))).map((e) => e.node);
      wanted = codes.keys;
    } else if (Array.isArray(codes)) wanted = codes.flatMap((c) => matchKeys(c.system, c.code));
    else return all.map((e) => e.node);
    const found = new Set<Indexed>();
    for (const key of wanted) for (const entry of this.byCode.get(`${type.name}#${key}`) ?? []) found.add(entry);
    return [...found].sort((a, b) => a.position - b.position).map((e) => e.node);
  }

  findRecord(profile: string | null, details?: RetrieveDetails): RecordObject | undefined {
    return this.findRecords(profile, details)[0];
  }

  // The patient object is also the Patient resource, as cql-execution's patient model expects.
  get(field: string): unknown {
    return this.patient?.get(field);
  }

  getId(): string {
    return (this.patient?.getId() as string | undefined) ?? 'unknown-patient';
  }

  getCode(field: string): unknown {
    return this.patient?.getCode(field);
  }

  getDate(field: string): unknown {
    return this.patient?.getDate(field);
  }

  getDateOrInterval(field: string): unknown {
    return this.patient?.getDateOrInterval(field);
  }

  _is(spec: AnyTypeSpecifier): boolean {
    return this.patient?._is(spec) ?? false;
  }
}

/** cql-execution's patient source protocol, for exactly one patient. */
export class SinglePatient implements DataProvider {
  private done = false;
  constructor(private readonly patient: PatientObject) {}
  currentPatient(): PatientObject | undefined {
    return this.done ? undefined : this.patient;
  }
  nextPatient(): PatientObject | undefined {
    this.done = true;
    return undefined;
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
