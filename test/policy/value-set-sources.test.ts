/**
 * Value sets whose concepts come from a published expansion (valuesets/sources/) hold exactly what
 * scripts/derive-cancer-value-sets.ts derives from it, and the minimum codes criteria.md lists.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CANCER_SOURCE, DERIVED_FROM, VALUE_SET_DIR, derivedInclude, sourceConcepts } from '../../scripts/derive-cancer-value-sets';

interface Include {
  system: string;
  concept: Array<{ code: string; display?: string }>;
  extension?: Array<{ url: string; valueCanonical?: string }>;
}

function includes(id: string): Include[] {
  return JSON.parse(fs.readFileSync(path.join(VALUE_SET_DIR, `${id}.json`), 'utf8')).compose.include;
}

const codes = (id: string) => new Set(includes(id).flatMap((i) => i.concept.map((c) => c.code)));

test('the published source is the VSAC Cancer SNOMED CT component it names', () => {
  const source = JSON.parse(fs.readFileSync(CANCER_SOURCE.file, 'utf8'));
  expect(`${source.url}|${source.version}`).toBe(CANCER_SOURCE.canonical);
  expect(sourceConcepts().length).toBeGreaterThan(3000);
});

test.each(['malignant-neoplasm', 'metastases'] as const)('%s holds the derivation of the published source', (id) => {
  const derived = includes(id).filter((i) => i.extension?.some((e) => e.url === DERIVED_FROM));
  expect(derived).toEqual([derivedInclude(id)]);
});

test('malignant-neoplasm: 363346000, 109838007; no neoplasm of uncertain behaviour', () => {
  const all = codes('malignant-neoplasm');
  for (const code of ['363346000', '109838007', '94260004']) expect(all).toContain(code);
  expect(all).not.toContain('109914007');
});

test('metastases: the criteria.md minimum and 94260004, 314994000; no primary neoplasm', () => {
  const all = codes('metastases');
  for (const code of ['C77', 'C78', 'C79', 'C80.0', '128462008', '94222008', '94260004', '314994000']) expect(all).toContain(code);
  expect(all).not.toContain('109838007');
  expect(all).not.toContain('363346000');
});
