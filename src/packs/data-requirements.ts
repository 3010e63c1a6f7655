/**
 * What a pack's CQL reads from the patient's record: every Retrieve in its library (and the libraries it includes),
 * by FHIR resource type, with the codes a retrieve filters on (its value set, expanded from the pack's value sets).
 * The prefetch templates are computed from this at startup (src/cds-hooks/derived-prefetch.ts), as AHRQ CQL
 * Services and fqm-execution compute data requirements from the ELM, so they cannot drift from the logic.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PolicyCodeService } from '../engine/value-sets';
import { walk, type ElmLibrary, type ElmNode } from './elm-walk';

export interface Coding {
  system: string;
  code: string;
}

export interface DataRequirement {
  /** FHIR resource type, e.g. "Observation". */
  type: string;
  /** The codes its retrieves filter on; undefined when some retrieve of the type reads every resource of it. */
  codes?: Coding[];
  /** Canonical URLs of the value sets behind `codes`. */
  valueSets: string[];
}

const FHIR_NAMESPACE = '{http://hl7.org/fhir}';

/** The pack's library and every library it includes (recursively), as ELM found in `elmDir`. */
function librariesOf(elm: ElmLibrary, elmDir: string): ElmLibrary[] {
  const found = new Map<string, ElmLibrary>([[elm.library.identifier.id, elm]]);
  const queue = [elm];
  while (queue.length > 0) {
    const library = queue.shift() as ElmLibrary;
    const includes = ((library.library as { includes?: { def?: Array<{ path: string }> } }).includes?.def ?? []).map((d) => d.path);
    for (const name of includes) {
      if (found.has(name)) continue;
      const file = path.join(elmDir, `${name}.json`);
      if (!fs.existsSync(file)) throw new Error(`ELM ${file} (included by ${library.library.identifier.id}) not found: run \`npm run build:cql\` first`);
      const included = JSON.parse(fs.readFileSync(file, 'utf8')) as ElmLibrary;
      found.set(name, included);
      queue.push(included);
    }
  }
  return [...found.values()];
}

export function dataRequirements(elm: ElmLibrary, elmDir: string, valueSets: PolicyCodeService): DataRequirement[] {
  const byType = new Map<string, { unfiltered: boolean; valueSets: Set<string> }>();
  for (const library of librariesOf(elm, elmDir)) {
    const valueSetUrls = new Map((library.library.valueSets?.def ?? []).map((d) => [d.name, d.id]));
    for (const node of walk(library.library.statements)) {
      if (node.type !== 'Retrieve' || typeof node.dataType !== 'string') continue;
      const type = node.dataType.startsWith(FHIR_NAMESPACE) ? node.dataType.slice(FHIR_NAMESPACE.length) : node.dataType;
      const entry = byType.get(type) ?? { unfiltered: false, valueSets: new Set<string>() };
      byType.set(type, entry);
      const codes = node.codes as ElmNode | undefined;
      // A value set from another library, a code list or a computed filter: read everything of the type (safe).
      const url = codes?.type === 'ValueSetRef' && !codes.libraryName ? valueSetUrls.get(codes.name as string) : undefined;
      if (url === undefined || node.codeProperty === undefined) entry.unfiltered = true;
      else entry.valueSets.add(url);
    }
  }
  return [...byType].map(([type, entry]) => {
    if (entry.unfiltered) return { type, valueSets: [] };
    const urls = [...entry.valueSets].sort();
    const codes = new Map<string, Coding>();
    for (const url of urls) {
      const vs = valueSets.findValueSet(url);
      if (!vs) throw new Error(`${elm.library.identifier.id}: value set ${url} (a retrieve of ${type} filters on it) is not among the pack's value sets`);
      for (const c of vs.codes as Array<{ system: string; code: string }>) codes.set(`${c.system}|${c.code}`, { system: c.system, code: c.code });
    }
    return { type, codes: [...codes.values()], valueSets: urls };
  });
}
