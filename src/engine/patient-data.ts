/**
 * Turns whatever the caller hands over (a Bundle, a list of resources, or junk) into resources the engine can
 * read safely. Anything structurally unusable is skipped and listed with the reason; no clinical judgement here.
 */
import type { Resource } from 'fhir/r4';
import type { SkippedResource } from './types';

// FHIR R4 date / dateTime / instant (https://hl7.org/fhir/R4/datatypes.html), checked for real calendar days below.
const FHIR_DATE_TIME =
  /^(\d{4})(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00)))?)?)?$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;
const DATE_KEYS = new Set(['authoredOn', 'issued', 'recordedDate', 'birthDate', 'start', 'end', 'recorded', 'date', 'lastOccurrence']);
const MAX_DEPTH = 32;
// Complex elements the policy reads, by name: a string or a list where an object belongs is unusable data.
const OBJECT_KEYS = new Set(['clinicalStatus', 'verificationStatus', 'medicationCodeableConcept', 'valueCodeableConcept',
  'codeCodeableConcept', 'valueQuantity', 'subject', 'patient', 'dispenseRequest']);
const LIST_OF_OBJECT_KEYS = new Set(['reasonCode', 'reasonReference', 'usedCode', 'orderDetail', 'partOf', 'category', 'entry']);

export interface UsableData {
  resources: Resource[];
  skipped: SkippedResource[];
}

export function isValidFhirDateTime(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const m = FHIR_DATE_TIME.exec(value);
  if (!m) return false;
  if (m[5] === undefined) return true;
  const [year, month, day] = [Number(m[1]), Number(m[3]), Number(m[5])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateKey(key: string): boolean {
  return DATE_KEYS.has(key) || /(DateTime|Date|Instant)$/.test(key);
}

/** The first structural problem in a resource, as `path: problem`, or null. */
export function findProblem(value: unknown, path: string, depth = 0): string | null {
  if (depth > MAX_DEPTH) return `${path}: nested too deeply`;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const problem = findProblem(item, `${path}[${i}]`, depth + 1);
      if (problem) return problem;
    }
    return null;
  }
  if (value === null || typeof value !== 'object') return null;
  const obj = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(obj)) {
    const at = path ? `${path}.${key}` : key;
    if (child === null) return `${at}: null is not a FHIR value`;
    if (isDateKey(key) && typeof child !== 'object' && !isValidFhirDateTime(child)) return `${at}: not a valid FHIR date or dateTime`;
    const isObject = typeof child === 'object' && !Array.isArray(child);
    if ((OBJECT_KEYS.has(key) || /Period$|^period$/.test(key) || (key === 'code' && path === '')) && !isObject) return `${at}: must be an object`;
    if (LIST_OF_OBJECT_KEYS.has(key) && !(Array.isArray(child) && child.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c)))) {
      return `${at}: must be a list of objects`;
    }
    if (key === 'statusReason' && typeof child !== 'object') return `${at}: must be a CodeableConcept`;
    if (key === 'coding') {
      if (!Array.isArray(child)) return `${at}: must be a list of Codings`;
      for (const [i, coding] of child.entries()) {
        if (coding === null || typeof coding !== 'object' || Array.isArray(coding)) return `${at}[${i}]: not a Coding`;
        for (const field of ['system', 'code', 'display', 'version'] as const) {
          const v = (coding as Record<string, unknown>)[field];
          if (v !== undefined && typeof v !== 'string') return `${at}[${i}].${field}: must be a string`;
        }
      }
      if ('text' in obj && typeof obj.text !== 'string') return `${path}.text: must be a string`;
    }
    if (['status', 'reference', 'id', 'resourceType'].includes(key) && typeof child !== 'string') return `${at}: must be a string`;
    if (key === 'value' && path.endsWith('valueQuantity') && typeof child !== 'number') return `${at}: must be a number`;
    if (key === 'valueInteger' && !Number.isInteger(child)) return `${at}: must be an integer`;
    const problem = findProblem(child, at, depth + 1);
    if (problem) return problem;
  }
  return null;
}

function entriesOf(data: unknown): { items: unknown[]; skipped: SkippedResource[] } {
  if (Array.isArray(data)) return { items: data, skipped: [] };
  if (data && typeof data === 'object' && (data as { resourceType?: unknown }).resourceType === 'Bundle') {
    const entry = (data as { entry?: unknown }).entry;
    if (entry === undefined) return { items: [], skipped: [] };
    if (!Array.isArray(entry)) return { items: [], skipped: [{ reference: 'Bundle', reason: 'Bundle.entry is not a list' }] };
    return { items: entry.map((e) => (e && typeof e === 'object' ? (e as { resource?: unknown }).resource : e)), skipped: [] };
  }
  return { items: [], skipped: [{ reference: 'patientData', reason: 'not a FHIR Bundle or a list of resources' }] };
}

function label(item: unknown, index: number): string {
  const r = item as { resourceType?: unknown; id?: unknown } | null;
  const type = typeof r?.resourceType === 'string' && RESOURCE_TYPE.test(r.resourceType) ? r.resourceType : 'entry';
  return typeof r?.id === 'string' && ID.test(r.id) ? `${type}/${r.id}` : `${type}[${index}]`;
}

/** Usable resources, each once (the first occurrence of a `Type/id` wins), and what was skipped. */
export function usableResources(data: unknown): UsableData {
  const { items, skipped } = entriesOf(data);
  const resources: Resource[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const reference = label(item, index);
    const r = item as { resourceType?: unknown; id?: unknown } | null;
    if (!r || typeof r !== 'object' || Array.isArray(r)) return skipped.push({ reference, reason: 'not a FHIR resource' });
    if (typeof r.resourceType !== 'string' || !RESOURCE_TYPE.test(r.resourceType)) return skipped.push({ reference, reason: 'no valid resourceType' });
    if (typeof r.id !== 'string' || !ID.test(r.id)) return skipped.push({ reference, reason: 'no valid id, so it cannot be cited as evidence' });
    if (r.resourceType === 'Bundle' || r.resourceType === 'OperationOutcome') return skipped.push({ reference, reason: `${r.resourceType} is not patient data` });
    if (seen.has(reference)) return skipped.push({ reference, reason: 'duplicate of an earlier resource with the same id' });
    const problem = findProblem(r, '');
    if (problem) return skipped.push({ reference, reason: problem });
    seen.add(reference);
    resources.push(r as Resource);
  });
  return { resources, skipped };
}
