/**
 * A service's prefetch templates, computed at startup from its pack's data requirements (what the CQL retrieves,
 * src/packs/data-requirements.ts) and adjusted by its service definition:
 * - `prefetch` in hooks/*.json replaces the derived template of the same resource type (a different key name, an
 *   added filter) or adds a key for a type the CQL does not read (a widening, e.g. `coverage` for CRD);
 * - `prefetchExclude` names types that are not fetched at all, each with the reason.
 * Startup stops when an override or exclusion would miss a code a retrieve filters on, when a retrieve without
 * a code filter is narrowed, or when a search template has no `_count`.
 */
import type { DataRequirement } from '../packs/data-requirements';

/**
 * Page size asked of the FHIR server on every search: a typical patient's matches fit in one page, and the FHIR
 * client follows `next` links (FHIR_MAX_PAGES) when the server caps the size lower (HAPI FHIR: 20 by default).
 */
export const PREFETCH_PAGE_SIZE = 500;

/**
 * Resource types with a `patient` search parameter in FHIR R4 (the common "clinical-patient" search parameter,
 * https://hl7.org/fhir/R4/searchparameter-registry.html, plus Coverage's own `patient`). Other types (Medication,
 * Practitioner, ...) cannot be searched by patient: a pack that retrieves them must exclude or override them.
 */
const PATIENT_SEARCHABLE = new Set([
  'AllergyIntolerance', 'CarePlan', 'CareTeam', 'ClinicalImpression', 'Composition', 'Condition', 'Consent', 'Coverage',
  'DetectedIssue', 'DeviceRequest', 'DeviceUseStatement', 'DiagnosticReport', 'DocumentManifest', 'DocumentReference',
  'Encounter', 'EpisodeOfCare', 'FamilyMemberHistory', 'Flag', 'Goal', 'ImagingStudy', 'Immunization', 'List',
  'MedicationAdministration', 'MedicationDispense', 'MedicationRequest', 'MedicationStatement', 'NutritionOrder',
  'Observation', 'Procedure', 'RiskAssessment', 'ServiceRequest', 'SupplyDelivery', 'SupplyRequest', 'VisionPrescription',
]);

/** Parameters an override of a retrieved type may use: they select by patient, page, sort, or add, never drop. */
const NON_NARROWING = new Set(['patient', 'subject', '_count', '_sort', '_include', '_revinclude']);

export interface PrefetchOverrides {
  prefetch?: Record<string, string>;
  prefetchExclude?: Record<string, string>;
}

export interface ParsedTemplate {
  type: string;
  /** Read by id (`Patient/{{context.patientId}}`) rather than searched. */
  read: boolean;
  params: Map<string, string[]>;
}

export function parseTemplate(source: string): ParsedTemplate | undefined {
  const match = /^([A-Z][A-Za-z]+)([?/])(.*)$/.exec(source);
  if (!match) return undefined;
  const [, type, separator, rest] = match;
  const params = new Map<string, string[]>();
  if (separator === '?') {
    for (const pair of rest.split('&')) {
      const [name, value = ''] = pair.split('=');
      params.set(decodeURIComponent(name), [...(params.get(name) ?? []), ...value.split(',').map((v) => decodeURIComponent(v))]);
    }
  }
  return { type, read: separator === '/', params };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function derivedTemplate(requirement: DataRequirement): { key: string; source: string } {
  if (requirement.type === 'Patient') return { key: 'patient', source: 'Patient/{{context.patientId}}' };
  const code = requirement.codes ? `&code=${requirement.codes.map((c) => `${c.system}|${c.code}`).join(',')}` : '';
  return {
    key: `${lowerFirst(requirement.type)}s`,
    source: `${requirement.type}?patient={{context.patientId}}${code}&_count=${PREFETCH_PAGE_SIZE}`,
  };
}

/** The codes of `requirement` that `template` would not return; ['*'] when it narrows an unfiltered retrieve. */
export function missedCodes(requirement: DataRequirement, template: ParsedTemplate): string[] {
  if (template.read) return [];
  const narrowing = [...template.params.keys()].filter((p) => !NON_NARROWING.has(p) && p !== 'code');
  if (narrowing.length > 0) return narrowing.map((p) => `(filter ${p})`);
  const codes = template.params.get('code');
  if (codes === undefined) return [];
  if (!requirement.codes) return ['(every code: a retrieve reads all of them)'];
  const covered = new Set(codes);
  return requirement.codes.map((c) => `${c.system}|${c.code}`).filter((c) => !covered.has(c));
}

/** Prefetch key -> template for one service; throws naming the service file and what is wrong. */
export function derivePrefetch(requirements: DataRequirement[], overrides: PrefetchOverrides, file: string): Record<string, string> {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  const overrideByType = new Map<string, { key: string; source: string; parsed: ParsedTemplate }>();
  const widenings: Array<{ key: string; source: string }> = [];
  const required = new Map(requirements.map((r) => [r.type, r]));
  for (const [key, source] of Object.entries(overrides.prefetch ?? {})) {
    const parsed = parseTemplate(source);
    if (!parsed) return fail(`prefetch "${key}": "${source}" is not a FHIR read (Type/id) or search (Type?params)`);
    if (!parsed.read && !/^[1-9]\d*$/.test(parsed.params.get('_count')?.[0] ?? '')) fail(`prefetch "${key}": a search needs _count (e.g. &_count=${PREFETCH_PAGE_SIZE})`);
    if (overrideByType.has(parsed.type)) fail(`prefetch "${key}": a second template for ${parsed.type}`);
    const requirement = required.get(parsed.type);
    if (!requirement) {
      widenings.push({ key, source });
      continue;
    }
    const missed = missedCodes(requirement, parsed);
    if (missed.length > 0) fail(`prefetch "${key}" would miss what the CQL retrieves of ${parsed.type}: ${missed.join(', ')}`);
    overrideByType.set(parsed.type, { key, source, parsed });
  }
  for (const [type, reason] of Object.entries(overrides.prefetchExclude ?? {})) {
    const requirement = required.get(type);
    if (!requirement) fail(`prefetchExclude "${type}": the CQL retrieves no ${type}`);
    if (typeof reason !== 'string' || reason.trim() === '') fail(`prefetchExclude "${type}": give the reason`);
    if (requirement?.codes) fail(`prefetchExclude "${type}" would miss the codes the CQL retrieves of it (${requirement.valueSets.join(', ')})`);
    if (overrideByType.has(type)) fail(`prefetchExclude "${type}": also has a prefetch template`);
  }

  const prefetch: Record<string, string> = {};
  const put = (key: string, source: string) => {
    if (key in prefetch) fail(`prefetch key "${key}" is used twice`);
    prefetch[key] = source;
  };
  // Patient first, then the record's types by name, then the widenings in the file's order.
  const types = [...required.keys()].sort((a, b) => (a === 'Patient' ? -1 : b === 'Patient' ? 1 : a.localeCompare(b)));
  for (const type of types) {
    if (overrides.prefetchExclude?.[type] !== undefined) continue;
    const override = overrideByType.get(type);
    if (override) {
      put(override.key, override.source);
      continue;
    }
    if (type !== 'Patient' && !PATIENT_SEARCHABLE.has(type)) {
      fail(`the CQL retrieves ${type}, which cannot be searched by patient: give it a prefetch template or a prefetchExclude reason`);
    }
    const derived = derivedTemplate(required.get(type) as DataRequirement);
    put(derived.key, derived.source);
  }
  for (const w of widenings) put(w.key, w.source);
  return prefetch;
}

