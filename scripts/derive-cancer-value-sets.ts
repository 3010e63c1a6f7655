/**
 * `npx tsx scripts/derive-cancer-value-sets.ts`: writes the SNOMED CT concepts of the `malignant-neoplasm` and
 * `metastases` value sets that come from a published expansion, kept as data in
 * policies/2022T0626C/valuesets/sources/ (VSAC "Cancer" SNOMED CT component, OID 2.16.840.1.113883.3.526.2.1079,
 * version 20230217, as published by cqframework/ecqm-content-qicore-2024, Apache-2.0; SNOMED CT content is
 * IHTSDO's, used under the UMLS/SNOMED CT affiliate licence).
 *
 * criteria.md asks for "SNOMED 363346000 and descendants" (malignant neoplasm) and the secondary malignant
 * neoplasm concepts. No SNOMED hierarchy is available offline, so the published set is filtered by its
 * fully specified names, a rule anyone can re-run and review:
 * - malignant neoplasm: every concept but those named as of uncertain behaviour, benign, a naevus, or in situ
 *   (the VSAC set is broader than "malignant": it also lists neoplasms of uncertain behaviour);
 * - metastases: every concept named "secondary ..." or "metasta..." (secondary malignant neoplasm, metastatic
 *   malignant neoplasm to ..., metastasis from ...), excluding the same non-malignant names.
 * The derived concepts go into a compose.include marked with the derived-from extension; the project's
 * hand-picked includes beside it are left as they are. A test (test/policy/value-set-sources.test.ts) checks
 * the value set files against this derivation, so the data and its source cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';

export const SNOMED = 'http://snomed.info/sct';
export const DERIVED_FROM = 'http://intrathecal-cds.example.org/fhir/StructureDefinition/derived-from';
export const VALUE_SET_DIR = path.resolve(__dirname, '..', 'policies', '2022T0626C', 'valuesets');
export const CANCER_SOURCE = {
  file: path.join(VALUE_SET_DIR, 'sources', 'vsac-2.16.840.1.113883.3.526.2.1079-20230217.json'),
  canonical: 'http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.113883.3.526.2.1079|20230217',
};

interface Concept {
  code: string;
  display: string;
}
interface Include {
  system: string;
  concept: Concept[];
  extension?: Array<{ url: string; valueCanonical?: string }>;
}

const NOT_MALIGNANT = /uncertain behavio|benign|nevus|naevus|in situ/i;
const SECONDARY = /\b(secondary|metasta)/i;

/** The concepts of the published source, as [code, display] in source order. */
export function sourceConcepts(file = CANCER_SOURCE.file): Concept[] {
  const source = JSON.parse(fs.readFileSync(file, 'utf8')) as { compose: { include: Include[] } };
  return source.compose.include.filter((i) => i.system === SNOMED).flatMap((i) => i.concept.map(({ code, display }) => ({ code, display })));
}

export function derivedConcepts(valueSetId: 'malignant-neoplasm' | 'metastases', concepts = sourceConcepts()): Concept[] {
  const malignant = concepts.filter((c) => !NOT_MALIGNANT.test(c.display));
  return valueSetId === 'malignant-neoplasm' ? malignant : malignant.filter((c) => SECONDARY.test(c.display));
}

export function derivedInclude(valueSetId: 'malignant-neoplasm' | 'metastases'): Include {
  return {
    extension: [{ url: DERIVED_FROM, valueCanonical: CANCER_SOURCE.canonical }],
    system: SNOMED,
    concept: derivedConcepts(valueSetId),
  };
}

function writeDerived(valueSetId: 'malignant-neoplasm' | 'metastases'): void {
  const file = path.join(VALUE_SET_DIR, `${valueSetId}.json`);
  const vs = JSON.parse(fs.readFileSync(file, 'utf8')) as { compose: { include: Include[] } };
  const kept = vs.compose.include.filter((i) => !i.extension?.some((e) => e.url === DERIVED_FROM));
  vs.compose.include = [...kept, derivedInclude(valueSetId)];
  fs.writeFileSync(file, `${JSON.stringify(vs, null, 2)}\n`);
  console.log(`${valueSetId}: ${derivedInclude(valueSetId).concept.length} SNOMED CT concepts from ${CANCER_SOURCE.canonical}`);
}

if (require.main === module) {
  writeDerived('malignant-neoplasm');
  writeDerived('metastases');
}
