/**
 * How cql-execution reads FHIR JSON: a `FhirNode` is one value of the record (a resource, a complex element, a
 * primitive) seen through its FHIR type from the model info (./fhir-model.ts). Elements are read from the parsed
 * JSON when the CQL asks for them, not before; each node remembers what it has read and converted (child nodes,
 * dates, codes) for as long as it lives, which is one hook call: the nodes of a call's record are made once and
 * every order of the call is evaluated against them.
 *
 * The values returned are those cql-exec-fhir's FHIRObject returns for the same JSON (same System conversions,
 * primitives spread over `x` and `_x`, choices found in model-info order, CodeableConcept -> Code(s) for
 * retrieves), so FHIRHelpers and the policy CQL read them unchanged; test/engine/data-source-equivalence.test.ts
 * holds the two side by side. One deliberate difference: a resource inside another (`contained`,
 * `Bundle.entry.resource`) is typed by its own resourceType, where cql-exec-fhir types it as the element's
 * declared type (Resource), which no `is FHIR.Medication` test can match.
 */
import { Code, DateTime, Interval } from 'cql-execution';
import type { AnyTypeSpecifier, RecordObject } from 'cql-execution';
import type { ElementDefinition, ElementVariant, FhirModel, FhirType, SystemTypeName } from './fhir-model';

type Json = Record<string, unknown>;

/** Converts a FHIR primitive's JSON value to the CQL System value cql-exec-fhir gives for it. */
export function toSystemValue(value: unknown, type: SystemTypeName): unknown {
  if (value == null) return value;
  switch (type) {
    case 'Boolean':
    case 'Integer':
    case 'Decimal':
    case 'String':
      return value;
    case 'DateTime':
      return parseDateTime((value as string).replace('Z', '+00:00'));
    case 'Date':
      return parseDateTime(value as string)?.getDate() ?? undefined;
    case 'Time': {
      const time = DateTime.parse(`0000-01-01T${(value as string).replace('Z', '+00:00')}`);
      if (time) time.timezoneOffset = null as unknown as number;
      return time;
    }
  }
}

/** The shapes of a FHIR date or dateTime that `parseDateTime` reads itself; anything else goes to cql-execution. */
const COMMON_DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(?:(Z)|([+-])(\d{2}):(\d{2}))?)?)?)?$/;

/**
 * `DateTime.parse` of cql-execution, the same DateTime for the same text, without its validity check through
 * luxon's format parser (one `fromFormat` per candidate format: most of the time a record's dates cost). The
 * common shapes (a date, a month, a year, a dateTime to the second with optional milliseconds and offset) are
 * checked here against the calendar; every other text, and every text this check doubts, is left to
 * `DateTime.parse`, so the result is always the one cql-execution would give. src/engine/fhir-record.test.ts
 * compares the two.
 */
export function parseDateTime(text: string): DateTime | null {
  const m = COMMON_DATE_TIME.exec(text);
  if (!m) return DateTime.parse(text);
  const year = Number(m[1]);
  const month = m[2] === undefined ? null : Number(m[2]);
  const day = m[3] === undefined ? null : Number(m[3]);
  if (year < 1 || (month !== null && (month < 1 || month > 12)) || (day !== null && (day < 1 || day > daysIn(year, month as number)))) {
    return DateTime.parse(text);
  }
  if (m[4] === undefined) return new DateTime(year, month, day);
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 59) return DateTime.parse(text);
  // As cql-execution reads milliseconds: padded or cut to three digits (.5 -> 500).
  const millisecond = m[7] === undefined ? null : Number(`${m[7]}00`.slice(0, 3));
  if (m[8] === 'Z') return new DateTime(year, month, day, hour, minute, second, millisecond, 0);
  if (m[9] === undefined) return new DateTime(year, month, day, hour, minute, second, millisecond);
  const [offsetHours, offsetMinutes] = [Number(m[10]), Number(m[11])];
  if (offsetHours > 14 || offsetMinutes > 59) return DateTime.parse(text);
  const offset = offsetHours + offsetMinutes / 60;
  return new DateTime(year, month, day, hour, minute, second, millisecond, m[9] === '+' ? offset : offset * -1);
}

function daysIn(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const NOT_READ = Symbol('not read');
const ABSENT = Symbol('absent');

/**
 * One FHIR value. Its only enumerable property is `key`, the identity cql-execution's value equality and
 * de-duplication compare: `Type/id` for a resource of the record (each is held once), the JSON otherwise.
 * Everything else is private, so `node[elementName]` is undefined and cql-execution asks `get()`.
 */
export class FhirNode implements RecordObject {
  readonly key: unknown;
  readonly #json: Json;
  readonly #type: FhirType;
  readonly #model: FhirModel;
  #read?: Map<string, unknown>;
  #codes?: Map<string, unknown>;

  constructor(json: Json, type: FhirType, model: FhirModel, key: unknown = json) {
    this.key = key;
    this.#json = json;
    this.#type = type;
    this.#model = model;
  }

  /** The FHIR type this value is read as. */
  get fhirType(): FhirType {
    return this.#type;
  }

  /** The JSON this node reads (never copied, never changed). */
  get json(): Json {
    return this.#json;
  }

  get(field: string): unknown {
    const read = (this.#read ??= new Map());
    // One lookup per read: an element found absent is remembered as ABSENT, not as undefined.
    const known = read.get(field);
    if (known !== undefined) return known === ABSENT ? undefined : known;
    const value = this.#readPath(field);
    read.set(field, value === undefined ? ABSENT : value);
    return value;
  }

  #readPath(field: string): unknown {
    const dot = field.indexOf('.');
    if (dot < 0) return this.#readElement(field);
    const head = this.get(field.slice(0, dot));
    if (head == null) return head;
    // cql-exec-fhir does not traverse into lists or System values in the middle of a path.
    return head instanceof FhirNode || head instanceof FhirPrimitive ? head.get(field.slice(dot + 1)) : undefined;
  }

  #readElement(name: string): unknown {
    const json = this.#json;
    // An element by its name, or a choice by one of its typed names (`medicationCodeableConcept`).
    const explicit = this.#type.properties.get(name);
    if (explicit) return readVariant(json, explicit.element, explicit.variant, this.#model);
    const element = this.#type.elements.get(name);
    if (!element) return undefined;
    // A choice by its own name (`medication`): the first of its types, in model-info order, present in the JSON.
    const variant = element.variants.find((v) => json[v.property] != null || json[v.extraProperty] != null);
    if (variant) return readVariant(json, element, variant, this.#model);
    const untyped = json[name];
    return untyped == null ? untyped : undefined;
  }

  getId(): unknown {
    return this.#json.id;
  }

  getCode(field: string): unknown {
    const codes = (this.#codes ??= new Map());
    const known = codes.get(field);
    if (known !== undefined) return known === ABSENT ? undefined : known;
    const value = this.get(field);
    const code = value instanceof Code ? value : toCode(value);
    codes.set(field, code === undefined ? ABSENT : code);
    return code;
  }

  getDate(field: string): unknown {
    const value = this.get(field);
    return value instanceof DateTime ? value : valueOf(value) ?? value;
  }

  getInterval(field: string): unknown {
    const value = this.get(field);
    return value instanceof Interval ? value : valueOf(value) ?? value;
  }

  getDateOrInterval(field: string): unknown {
    const value = this.get(field);
    return value instanceof DateTime || value instanceof Interval ? value : valueOf(value) ?? value;
  }

  _is(spec: AnyTypeSpecifier): boolean {
    return spec.type === 'NamedTypeSpecifier' && this.#type.is(spec);
  }

  _typeHierarchy(): AnyTypeSpecifier[] {
    return this.#type.hierarchy as AnyTypeSpecifier[];
  }
}

/**
 * A FHIR primitive: its value (`x` in JSON) and its id and extensions (`_x`). cql-exec-fhir merges the two into
 * one object per read; here they are kept apart and read in place.
 */
export class FhirPrimitive implements RecordObject {
  readonly key: unknown;
  readonly #value: unknown;
  readonly #extra: Json | undefined;
  readonly #type: FhirType;
  readonly #model: FhirModel;
  #system: unknown = NOT_READ;
  #extraNode?: FhirNode;

  constructor(value: unknown, extra: Json | undefined, type: FhirType, model: FhirModel) {
    this.key = extra === undefined ? value : [value, extra];
    this.#value = value;
    this.#extra = extra;
    this.#type = type;
    this.#model = model;
  }

  get fhirType(): FhirType {
    return this.#type;
  }

  get(field: string): unknown {
    if (field === 'value') {
      if (this.#system === NOT_READ) this.#system = toSystemValue(this.#value, this.#type.primitive as SystemTypeName);
      return this.#system;
    }
    if (this.#extra === undefined) return undefined;
    this.#extraNode ??= new FhirNode(this.#extra, this.#type, this.#model);
    return this.#extraNode.get(field);
  }

  getId(): unknown {
    return this.#extra?.id;
  }

  getCode(field: string): unknown {
    const value = this.get(field);
    return value instanceof Code ? value : toCode(value);
  }

  getDate(field: string): unknown {
    return this.get(field);
  }

  getDateOrInterval(field: string): unknown {
    return this.get(field);
  }

  _is(spec: AnyTypeSpecifier): boolean {
    return spec.type === 'NamedTypeSpecifier' && this.#type.is(spec);
  }

  _typeHierarchy(): AnyTypeSpecifier[] {
    return this.#type.hierarchy as AnyTypeSpecifier[];
  }
}

/** `date.value` as cql-exec-fhir's getDate reads it, or undefined. */
function valueOf(value: unknown): unknown {
  return value instanceof FhirNode || value instanceof FhirPrimitive ? value.get('value') || undefined : undefined;
}

function readVariant(json: Json, element: ElementDefinition, variant: ElementVariant, model: FhirModel): unknown {
  const { property, extraProperty, type } = variant;
  if (type === null) return toSystemValue(json[property], variant.system as SystemTypeName);
  const value = json[property];
  if (type.primitive) {
    const extra = json[extraProperty];
    if (value == null && extra == null) return value;
    if (!element.isList) return primitive(value, extra, type, model);
    const values = Array.isArray(value) ? value : [value];
    const extras = Array.isArray(extra) ? extra : [extra];
    const length = Math.max(values.length, extras.length);
    const items: unknown[] = [];
    for (let i = 0; i < length; i++) items.push(primitive(values[i], extras[i], type, model));
    return items;
  }
  if (value == null) return value;
  if (element.isList) return (value as unknown[]).map((item) => (item == null ? item : node(item as Json, type, model)));
  return node(value as Json, type, model);
}

function primitive(value: unknown, extra: unknown, type: FhirType, model: FhirModel): unknown {
  if (value == null && extra == null) return value;
  return new FhirPrimitive(value, extra == null ? undefined : (extra as Json), type, model);
}

/** A complex value; a resource inside another is typed by its own resourceType when that is one of the declared type's. */
function node(json: Json, declared: FhirType, model: FhirModel): FhirNode {
  if (declared.isResource && typeof json.resourceType === 'string' && json.resourceType !== declared.name) {
    const own = model.resourceTypes.get(json.resourceType);
    if (own?.is(declared.hierarchy[0])) return new FhirNode(json, own, model);
  }
  return new FhirNode(json, declared, model);
}

/** cql-exec-fhir's conversion of a CodeableConcept, Coding or code to what a retrieve's code filter matches. */
function toCode(value: unknown): unknown {
  if (value == null) return value;
  if (Array.isArray(value)) return value.map(toCode);
  const typeName = (value as FhirNode | FhirPrimitive).fhirType?.name;
  if (typeName === 'CodeableConcept') {
    const coding = (value as FhirNode).get('coding') as unknown[] | null | undefined;
    if (coding == null) return coding;
    const codes = coding.map(toCode);
    return codes.length === 1 ? codes[0] : codes;
  }
  if (typeName === 'Coding') {
    const coding = value as FhirNode;
    const part = (name: string): unknown => {
      const p = coding.get(name) as FhirPrimitive | null | undefined;
      return p == null ? p : p.get('value');
    };
    return new Code(part('code') as string, part('system') as string, part('version') as string, part('display') as string);
  }
  if (typeName === 'code') return (value as FhirPrimitive).get('value');
  return undefined;
}
