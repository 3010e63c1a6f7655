/**
 * The FHIR R4 type definitions the engine reads records by: the FHIR 4.0.1 model info that the CQL is translated
 * against (cql-exec-fhir's fhir-modelinfo-4.0.1.xml, the same file scripts/build-cql.mts hands the translator),
 * parsed once at startup into one `FhirType` per class. Both the record intake (which elements are usable) and
 * the data source the CQL reads through (what an element's value is) work from these types, so the two always
 * agree on what a FHIR element is.
 */
import fs from 'node:fs';

/** The CQL System types a FHIR primitive's `value` maps to (the model info's `System.*` element types). */
export type SystemTypeName = 'Boolean' | 'Integer' | 'Decimal' | 'String' | 'Date' | 'DateTime' | 'Time';

/** One way an element can appear in JSON: its JSON property name and the FHIR type found there. */
export interface ElementVariant {
  /** JSON property, e.g. `valueQuantity` for the Quantity choice of `value`; the element name otherwise. */
  readonly property: string;
  /** The JSON property of a primitive's id and extensions: `_` + property (spelt once, not per read). */
  readonly extraProperty: string;
  /** The FHIR type, or null when the element is a System type (only `Element.id`). */
  readonly type: FhirType | null;
  /** For a System-typed element: its System type. */
  readonly system?: SystemTypeName;
}

export interface ElementDefinition {
  readonly name: string;
  readonly isList: boolean;
  readonly isChoice: boolean;
  /** One variant, or one per choice type in model-info order (the order cql-exec-fhir looks for them in JSON). */
  readonly variants: readonly ElementVariant[];
}

/** What the CQL sees as the type of a value: `{namespace}name`, as cql-execution's type specifiers spell it. */
export interface NamedTypeSpecifier {
  readonly name: string;
  readonly type: 'NamedTypeSpecifier';
}

export class FhirType {
  /** Every element, inherited ones included, by element name. */
  readonly elements = new Map<string, ElementDefinition>();
  /** Every JSON property a value of this type may have (choice variants spelled out), by property name. */
  readonly properties = new Map<string, { element: ElementDefinition; variant: ElementVariant }>();
  /** Set for primitives (lower-case FHIR types and code enumerations): the System type of their `value`. */
  primitive?: SystemTypeName;
  isResource = false;
  base?: FhirType;
  /** This type and its ancestors as type specifiers, then System.Any (cql-exec-fhir's `_typeHierarchy`). */
  hierarchy: readonly NamedTypeSpecifier[] = [];
  private readonly hierarchyNames = new Set<string>();

  constructor(
    /** Model-info name without the `FHIR.` prefix: `Observation`, `Account.Coverage`, `dateTime`. */
    readonly name: string,
    readonly primaryCodePath: string | undefined,
    readonly retrievable: boolean,
  ) {}

  /** cql-execution's `is` test: true for this type, its ancestors and System.Any. */
  is(spec: { name?: string }): boolean {
    return spec.name !== undefined && this.hierarchyNames.has(spec.name);
  }

  /** @internal set once while the model is built */
  finish(hierarchy: NamedTypeSpecifier[]): void {
    this.hierarchy = hierarchy;
    for (const h of hierarchy) this.hierarchyNames.add(h.name);
  }
}

const FHIR_NAMESPACE = 'http://hl7.org/fhir';
const SYSTEM_ANY: NamedTypeSpecifier = { name: '{urn:hl7-org:elm-types:r1}Any', type: 'NamedTypeSpecifier' };
const SYSTEM_TYPES = new Set<string>(['Boolean', 'Integer', 'Decimal', 'String', 'Date', 'DateTime', 'Time']);

/** A parsed XML element: just what the model info uses (tags, attributes, children; no text, no comments). */
interface XmlNode {
  tag: string;
  attrs: Record<string, string>;
  children: XmlNode[];
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Parses the model info's XML: elements and attributes only, which is all a model info holds. */
function parseXml(xml: string): XmlNode {
  const root: XmlNode = { tag: '#root', attrs: {}, children: [] };
  const stack: XmlNode[] = [root];
  const tag = /<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->/g;
  for (const m of xml.matchAll(tag)) {
    if (!m[2]) continue; // declaration or comment
    const [, closing, name, attrText, selfClosing] = m;
    const local = name.replace(/^.*:/, '');
    if (closing) {
      if (stack.length < 2 || stack[stack.length - 1].tag !== local) throw new Error(`unbalanced </${name}> in model info`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:.-]+)\s*=\s*"([^"]*)"/g)) {
      attrs[a[1].replace(/^.*:/, '')] = a[2].replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ENTITIES[e]);
    }
    const node: XmlNode = { tag: local, attrs, children: [] };
    stack[stack.length - 1].children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length !== 1) throw new Error('model info XML ends inside an element');
  return root;
}

type RawType = { kind: 'named'; namespace: string; name: string } | { kind: 'list'; of: RawType } | { kind: 'choice'; of: RawType[] };

function namedType(qualified: string): RawType {
  const dot = qualified.indexOf('.');
  return { kind: 'named', namespace: qualified.slice(0, dot), name: qualified.slice(dot + 1) };
}

function rawTypeOf(node: XmlNode, prefix: string): RawType {
  const direct = node.attrs[prefix ? `${prefix}Type` : 'type'] ?? (prefix === '' ? node.attrs.elementType : undefined);
  if (direct) return namedType(direct);
  const spec = node.children.find((c) => c.tag === `${prefix || 'element'}TypeSpecifier`) ?? node.children.find((c) => c.tag.endsWith('TypeSpecifier'));
  if (!spec) throw new Error(`model info element ${node.attrs.name ?? node.tag} has no type`);
  return specifierType(spec);
}

function specifierType(spec: XmlNode): RawType {
  switch (spec.attrs.type) {
    case 'NamedTypeSpecifier':
      return { kind: 'named', namespace: spec.attrs.modelName ?? spec.attrs.namespace, name: spec.attrs.name };
    case 'ListTypeSpecifier':
      return { kind: 'list', of: spec.attrs.elementType ? namedType(spec.attrs.elementType) : specifierType(spec.children[0]) };
    case 'ChoiceTypeSpecifier':
      return { kind: 'choice', of: spec.children.filter((c) => c.tag === 'choice').map(specifierType) };
    default:
      throw new Error(`model info type specifier ${spec.attrs.type} is not supported`);
  }
}

export class FhirModel {
  private readonly types = new Map<string, FhirType>();
  /** Every resource type (Resource and its descendants), by resourceType. */
  readonly resourceTypes = new Map<string, FhirType>();

  constructor(modelInfoXml: string) {
    const root = parseXml(modelInfoXml).children.find((c) => c.tag === 'modelInfo');
    if (!root || root.attrs.name !== 'FHIR') throw new Error('not a FHIR model info');
    const infos = root.children.filter((c) => c.tag === 'typeInfo' && c.attrs.type === 'ClassInfo');
    for (const info of infos) {
      const type = new FhirType(info.attrs.name, info.attrs.primaryCodePath, info.attrs.retrievable === 'true');
      this.types.set(type.name, type);
    }
    const own = new Map<FhirType, Array<{ name: string; raw: RawType }>>();
    for (const info of infos) {
      const type = this.types.get(info.attrs.name) as FhirType;
      const baseName = info.attrs.baseType;
      if (baseName?.startsWith('FHIR.')) type.base = this.required(baseName.slice(5), type.name);
      own.set(type, info.children.filter((c) => c.tag === 'element').map((e) => ({ name: e.attrs.name, raw: rawTypeOf(e, '') })));
    }
    const done = new Set<FhirType>();
    const complete = (type: FhirType): void => {
      if (done.has(type)) return;
      done.add(type);
      if (type.base) {
        complete(type.base);
        for (const [name, element] of type.base.elements) type.elements.set(name, element);
      }
      for (const { name, raw } of own.get(type) ?? []) type.elements.set(name, this.element(name, raw, type.name));
      for (const element of type.elements.values()) {
        for (const variant of element.variants) type.properties.set(variant.property, { element, variant });
      }
      const chain: FhirType[] = [];
      for (let t: FhirType | undefined = type; t; t = t.base) chain.push(t);
      type.isResource = chain.some((t) => t.name === 'Resource');
      type.primitive = primitiveValueType(type, own.get(type) ?? []);
      type.finish([...chain.map((t) => ({ name: `{${FHIR_NAMESPACE}}${t.name}`, type: 'NamedTypeSpecifier' as const })), SYSTEM_ANY]);
      if (type.isResource && !type.name.includes('.')) this.resourceTypes.set(type.name, type);
    };
    for (const type of this.types.values()) complete(type);
  }

  /**
   * A type by any name the ELM or cql-execution uses for it: `{http://hl7.org/fhir}Condition`, `FHIR.Condition`,
   * `Condition`, or its StructureDefinition URL.
   */
  find(name: string): FhirType | undefined {
    // Every retrieve asks by name: answered from a memo after the first time.
    if (this.found.has(name)) return this.found.get(name);
    const type = this.findUncached(name);
    this.found.set(name, type);
    return type;
  }

  private readonly found = new Map<string, FhirType | undefined>();

  private findUncached(name: string): FhirType | undefined {
    const bare = name
      .replace(`{${FHIR_NAMESPACE}}`, '')
      .replace(/^FHIR\./, '')
      .replace(`${FHIR_NAMESPACE}/StructureDefinition/`, '');
    return this.types.get(bare);
  }

  private required(name: string, from: string): FhirType {
    const type = this.types.get(name);
    if (!type) throw new Error(`model info type ${from} refers to FHIR.${name}, which it does not define`);
    return type;
  }

  private element(name: string, raw: RawType, owner: string): ElementDefinition {
    const isList = raw.kind === 'list';
    const single = raw.kind === 'list' ? raw.of : raw;
    if (single.kind === 'list') throw new Error(`model info element ${owner}.${name} is a list of lists`);
    if (single.kind === 'choice') {
      const variants = single.of.map((choice) => {
        if (choice.kind !== 'named' || choice.namespace !== 'FHIR') throw new Error(`model info element ${owner}.${name} has a choice that is not a FHIR type`);
        // A choice of a datatype profile is spelt with the datatype's name in JSON (SimpleQuantity -> Quantity).
        const jsonName = choice.name === 'SimpleQuantity' ? 'Quantity' : choice.name;
        const property = `${name}${jsonName[0].toUpperCase()}${jsonName.slice(1)}`;
        return { property, extraProperty: `_${property}`, type: this.required(choice.name, owner) };
      });
      return { name, isList, isChoice: true, variants };
    }
    if (single.namespace === 'System') {
      if (!SYSTEM_TYPES.has(single.name)) throw new Error(`model info element ${owner}.${name} has System type ${single.name}, which the engine does not read`);
      return { name, isList, isChoice: false, variants: [{ property: name, extraProperty: `_${name}`, type: null, system: single.name as SystemTypeName }] };
    }
    return { name, isList, isChoice: false, variants: [{ property: name, extraProperty: `_${name}`, type: this.required(single.name, owner) }] };
  }
}

/**
 * cql-exec-fhir's rule for a FHIR primitive (a value spread over `x` and `_x` in JSON): a lower-case FHIR type,
 * or a code enumeration (a class derived from Element whose only element is a System.String `value`).
 */
function primitiveValueType(type: FhirType, ownElements: Array<{ name: string }>): SystemTypeName | undefined {
  const value = type.elements.get('value')?.variants[0]?.system;
  if (type.name[0] === type.name[0].toLowerCase() && !type.name.includes('.')) return value;
  if (type.base?.name === 'Element' && ownElements.length === 1 && ownElements[0].name === 'value' && value === 'String') return value;
  return undefined;
}

let shared: FhirModel | undefined;

/** The FHIR 4.0.1 model, parsed on first use and then shared by every engine of the process. */
export function fhirModel(): FhirModel {
  shared ??= new FhirModel(fs.readFileSync(require.resolve('cql-exec-fhir/lib/modelInfos/fhir-modelinfo-4.0.1.xml'), 'utf8'));
  return shared;
}
