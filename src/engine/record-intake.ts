/**
 * Record intake: turns whatever the caller hands over (a Bundle, a list of resources, or junk) into resources the
 * engine can read, deciding by the FHIR R4 definitions (the model info, ./fhir-model.ts), never by key names.
 *
 * - A resource is left out only when it is not a resource at all: not an object, no known R4 resourceType, no id
 *   to cite it by, a Bundle or OperationOutcome (not patient data), or a second copy of a `Type/id`.
 * - Inside a resource, every element is checked against its FHIR type: a primitive must have the JSON type and
 *   lexical form its FHIR type allows (a date a real calendar day), a complex element must be an object, a list a
 *   list. An element that fails is left out of that resource (the rest is kept) and reported with its path.
 *   Elements the model does not define are kept as they are: the engine never reads them.
 * - The input is never changed: a resource with an element left out is a copy, made only then.
 *
 * Reports name resources by `Type/id` and elements by path; they never carry values (no PHI).
 */
import type { Resource } from 'fhir/r4';
import type { ElementDefinition, FhirModel, FhirType, SystemTypeName } from './fhir-model';

export interface LeftOut {
  /** `Type/id`, or `Type[index]` / `entry[index]` when there is no usable id. */
  reference: string;
  /** Resource type for counting ('entry' when unknown). */
  resourceType: string;
  /** The element's path inside the resource (`dosageInstruction[0].timing`); absent when the whole resource was left out. */
  path?: string;
  /** Short fixed phrase, no values: what the counts in logs are keyed by. */
  reason: string;
}

export interface IntakeResult {
  resources: Resource[];
  /** Whole resources left out. */
  skipped: LeftOut[];
  /** Elements left out of resources that were kept. */
  dropped: LeftOut[];
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const MAX_DEPTH = 32;
const NOT_PATIENT_DATA = new Set(['Bundle', 'OperationOutcome']);

// FHIR R4 date / dateTime / instant / time (https://hl7.org/fhir/R4/datatypes.html#primitive); calendar days and
// the CQL engine's limits (no leap second) checked below.
const DATE = /^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/;
const DATE_TIME =
  /^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))?)?)?)?$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?$/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDay(m: RegExpExecArray): boolean {
  if (m[5] === undefined) return true;
  const year = Number(m[1]);
  const month = Number(m[3]);
  const day = Number(m[5]);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= DAYS_IN_MONTH[month - 1] + (leap ? 1 : 0);
}

/** True when `value` is a FHIR date or dateTime the engine can read (real calendar day). */
export function isValidFhirDateTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = DATE_TIME.exec(value);
  return m !== null && isCalendarDay(m);
}

/** Why a primitive's JSON value cannot be read as its System type, or null when it can. */
function primitiveProblem(value: unknown, type: SystemTypeName): string | null {
  switch (type) {
    case 'Boolean':
      return typeof value === 'boolean' ? null : 'not a JSON boolean';
    case 'Integer':
      return Number.isInteger(value) ? null : 'not a JSON integer';
    case 'Decimal':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'not a JSON number';
    case 'String':
      return typeof value === 'string' ? null : 'not a JSON string';
    case 'Date': {
      if (typeof value !== 'string') return 'not a JSON string';
      const m = DATE.exec(value);
      return m && isCalendarDay(m) ? null : 'not a valid FHIR date';
    }
    case 'DateTime':
      if (typeof value !== 'string') return 'not a JSON string';
      return isValidFhirDateTime(value) ? null : 'not a valid FHIR dateTime';
    case 'Time':
      if (typeof value !== 'string') return 'not a JSON string';
      return TIME.test(value) ? null : 'not a valid FHIR time';
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

class Checker {
  readonly dropped: LeftOut[] = [];
  constructor(
    private readonly model: FhirModel,
    private readonly reference: string,
    private readonly resourceType: string,
  ) {}

  /** Where the check is: element names and list positions from the resource down (joined only when reporting). */
  private readonly at: Array<string | number> = [];

  private drop(reason: string): undefined {
    const path = this.at.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
    this.dropped.push({ reference: this.reference, resourceType: this.resourceType, path, reason });
    return undefined;
  }

  /** The object with unreadable elements left out: the same object when nothing was, else a copy. */
  complex(json: Record<string, unknown>, type: FhirType, depth: number): Record<string, unknown> {
    let copy: Record<string, unknown> | undefined;
    for (const key in json) {
      const value = json[key];
      let checked: unknown = value;
      this.at.push(key);
      if (key.charCodeAt(0) === 95 /* _ */) {
        const primitive = type.properties.get(key.slice(1));
        if (primitive?.variant.type?.primitive !== undefined) checked = this.extras(value, primitive.element, depth);
      } else {
        const known = type.properties.get(key);
        if (known) {
          const { element, variant } = known;
          if (variant.type === null) checked = primitiveProblem(value, variant.system as SystemTypeName) ? this.drop('wrong JSON type') : value;
          else if (element.isList) checked = this.list(value, variant.type, depth);
          else checked = this.single(value, variant.type, depth);
        }
      }
      this.at.pop();
      if (checked !== value) {
        copy ??= { ...json };
        if (checked === undefined) delete copy[key];
        else copy[key] = checked;
      }
    }
    return copy ?? json;
  }

  private list(value: unknown, type: FhirType, depth: number): unknown {
    if (!Array.isArray(value)) return this.drop('not a list');
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      this.at.push(i);
      // A primitive list may hold null where only the `_x` list has an id or extension.
      const checked = item === null && type.primitive ? item : this.single(item, type, depth);
      this.at.pop();
      if (checked === item) {
        copy?.push(item);
        continue;
      }
      copy ??= value.slice(0, i);
      if (checked !== undefined) copy.push(checked);
    }
    if (!copy) return value;
    return copy.length > 0 ? copy : undefined;
  }

  private single(value: unknown, type: FhirType, depth: number): unknown {
    if (type.primitive) {
      const problem = primitiveProblem(value, type.primitive);
      if (problem === null) return value;
      return this.drop(problem.startsWith('not a valid') ? 'invalid date or time' : 'wrong JSON type');
    }
    if (!isObject(value)) return this.drop('wrong JSON type');
    if (depth >= MAX_DEPTH) return this.drop('nested too deeply');
    let actual = type;
    if (type.isResource) {
      const own = typeof value.resourceType === 'string' ? this.model.resourceTypes.get(value.resourceType) : undefined;
      if (!own?.is(type.hierarchy[0])) return this.drop('not a FHIR R4 resource');
      actual = own;
    }
    return this.complex(value, actual, depth + 1);
  }

  /** `_x`: the id and extensions of a primitive (a list of them, with nulls, for a primitive list). */
  private extras(value: unknown, element: ElementDefinition, depth: number): unknown {
    const elementType = this.model.find('Element') as FhirType;
    if (!element.isList) return isObject(value) ? this.complex(value, elementType, depth + 1) : this.drop('wrong JSON type');
    if (!Array.isArray(value)) return this.drop('not a list');
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      this.at.push(i);
      const checked = item === null ? null : isObject(item) ? this.complex(item, elementType, depth + 1) : this.drop('wrong JSON type');
      this.at.pop();
      if (checked !== item) (copy ??= [...value])[i] = checked ?? null;
    });
    return copy ?? value;
  }
}

function entriesOf(data: unknown): { items: unknown[]; skipped: LeftOut[] } {
  if (Array.isArray(data)) return { items: data, skipped: [] };
  if (isObject(data) && data.resourceType === 'Bundle') {
    const entry = data.entry;
    if (entry === undefined) return { items: [], skipped: [] };
    if (!Array.isArray(entry)) return { items: [], skipped: [{ reference: 'Bundle', resourceType: 'Bundle', reason: 'Bundle.entry is not a list' }] };
    return { items: entry.map((e) => (isObject(e) ? e.resource : e)), skipped: [] };
  }
  return { items: [], skipped: [{ reference: 'patientData', resourceType: 'entry', reason: 'not a FHIR Bundle or a list of resources' }] };
}

/**
 * The resources of `data` that are resources (a known R4 resourceType, an id, patient data), each once (the first
 * of a `Type/id` wins), and the ones left out; their elements are not checked yet (`checkElements`).
 */
export function readResourceList(data: unknown, model: FhirModel): { resources: Resource[]; skipped: LeftOut[] } {
  const { items, skipped } = entriesOf(data);
  const resources: Resource[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const skip = (reference: string, resourceType: string, reason: string): void => void skipped.push({ reference, resourceType, reason });
    if (!isObject(item)) return skip(`entry[${index}]`, 'entry', 'not a FHIR resource');
    const type = typeof item.resourceType === 'string' ? model.resourceTypes.get(item.resourceType) : undefined;
    if (!type) return skip(`entry[${index}]`, 'entry', 'no FHIR R4 resourceType');
    if (typeof item.id !== 'string' || !ID.test(item.id)) return skip(`${type.name}[${index}]`, type.name, 'no valid id, so it cannot be cited as evidence');
    const reference = `${type.name}/${item.id}`;
    if (NOT_PATIENT_DATA.has(type.name)) return skip(reference, type.name, `${type.name} is not patient data`);
    if (seen.has(reference)) return skip(reference, type.name, 'duplicate of an earlier resource with the same id');
    seen.add(reference);
    resources.push(item as unknown as Resource);
  });
  return { resources, skipped };
}

/**
 * One resource (from `readResourceList`) with the elements its FHIR types do not allow left out: the same object
 * when all are readable, else a copy; what was left out is appended to `dropped`.
 */
export function checkElements(resource: Resource, model: FhirModel, dropped: LeftOut[]): Resource {
  const type = model.resourceTypes.get(resource.resourceType) as FhirType;
  const checker = new Checker(model, `${type.name}/${resource.id}`, type.name);
  const checked = checker.complex(resource as unknown as Record<string, unknown>, type, 0) as unknown as Resource;
  dropped.push(...checker.dropped);
  return checked;
}

/** Resources the engine can read, each once, with every element checked, and what was left out. */
export function readResources(data: unknown, model: FhirModel): IntakeResult {
  const { resources, skipped } = readResourceList(data, model);
  const dropped: LeftOut[] = [];
  return { resources: resources.map((r) => checkElements(r, model, dropped)), skipped, dropped };
}

/** Counts by resource type and reason, for the log line (no ids, no values). */
export function countLeftOut(items: ReadonlyArray<Pick<LeftOut, 'reason' | 'path'> & { resourceType?: string }>): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const { resourceType, reason, path } of items) {
    const key = path === undefined ? `resource: ${reason}` : `element: ${reason}`;
    const byReason = (counts[resourceType ?? 'entry'] ??= {});
    byReason[key] = (byReason[key] ?? 0) + 1;
  }
  return counts;
}
