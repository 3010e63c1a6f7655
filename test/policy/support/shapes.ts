/**
 * The same fact in the other shapes FHIR R4 allows (criteria.md section 3): a time as dateTime, Period (closed or
 * open), instant, Age or Range; a medication as medicationCodeableConcept or medicationReference to a contained or
 * separate Medication (by its code or an ingredient's). Each helper rewrites a resource built by builders.ts.
 */
import type { Medication, MedicationRequest, MedicationStatement, Resource } from 'fhir/r4';

/** A time element in one shape. Ages and Ranges count from the test patient's birth date (1970-01-01). */
export type TimeShape =
  | { dateTime: string }
  | { instant: string }
  | { period: [string, string?] }
  | { ageYears: number }
  | { rangeYears: [number, number] };

/** Replaces the choice element `prefix`[x] (performed, effective, onset) of a resource by the given shape. */
export function withTime<T extends Resource>(resource: T, prefix: 'performed' | 'effective' | 'onset', shape: TimeShape): T {
  const copy = { ...resource } as Record<string, unknown>;
  for (const key of Object.keys(copy)) if (key.startsWith(prefix) && key !== prefix) delete copy[key];
  if ('dateTime' in shape) copy[`${prefix}DateTime`] = shape.dateTime;
  else if ('instant' in shape) copy[`${prefix}Instant`] = shape.instant;
  else if ('period' in shape) copy[`${prefix}Period`] = { start: shape.period[0], ...(shape.period[1] ? { end: shape.period[1] } : {}) };
  else if ('ageYears' in shape) copy[`${prefix}Age`] = years(shape.ageYears);
  else copy[`${prefix}Range`] = { low: years(shape.rangeYears[0]), high: years(shape.rangeYears[1]) };
  return copy as T;
}

const years = (value: number) => ({ value, unit: 'years', system: 'http://unitsofmeasure.org', code: 'a' });

export type MedicationShape = 'codeable-concept' | 'contained' | 'separate' | 'ingredient';
export const MEDICATION_SHAPES: MedicationShape[] = ['codeable-concept', 'contained', 'separate', 'ingredient'];

/**
 * The order or statement with its medicationCodeableConcept moved into a Medication: contained (`#med`), or a
 * separate resource (returned beside it), as the Medication's code or as its only ingredient's item. The result
 * lists every resource to put in the record (or the draft orders).
 */
export function withMedication<T extends MedicationRequest | MedicationStatement>(resource: T, shape: MedicationShape): Resource[] {
  if (shape === 'codeable-concept') return [resource];
  const { medicationCodeableConcept, ...rest } = resource;
  const concept = medicationCodeableConcept ?? {};
  const id = `${resource.id}-med`;
  const medication: Medication =
    shape === 'ingredient'
      ? { resourceType: 'Medication', id, code: { text: 'compounded preparation' }, ingredient: [{ itemCodeableConcept: concept }] }
      : { resourceType: 'Medication', id, code: concept };
  if (shape === 'contained') {
    return [{ ...rest, contained: [{ ...medication, id: 'med' }], medicationReference: { reference: '#med' } } as T];
  }
  return [{ ...rest, medicationReference: { reference: `Medication/${id}` } } as T, medication];
}
