/**
 * What each criterion of a pack reads, derived from its CQL (the ELM) so the policy page cannot drift from what the
 * engine evaluates: the value sets whose codes count and the windows and thresholds (parameters with a quantity or
 * number value) that bound it. Walks from each criterion expression of the pack's criteria list through every
 * definition it refers to in its own library.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ValueSet } from 'fhir/r4';
import { criterionIdReader } from './criteria-from-elm';
import { statementsByName, walk, type ElmNode } from './elm-walk';
import type { ParameterValue, QuantityValue } from './elm-parameters';
import type { PolicyPack } from './load-packs';

export interface ValueSetCodes {
  url: string;
  title: string;
  /** Code system URL -> codes with their display, in the file's order. */
  codes: Array<{ system: string; concepts: Array<{ code: string; display?: string }> }>;
}

export interface CriterionRequirements {
  valueSets: ValueSetCodes[];
  /** Parameter name -> its value in this deployment (quantities and numbers only). */
  parameters: Array<{ name: string; value: QuantityValue | number }>;
}

const isBound = (v: ParameterValue | undefined): v is QuantityValue | number =>
  typeof v === 'number' || (typeof v === 'object' && v !== null && !Array.isArray(v) && 'unit' in v);

function readValueSets(dir: string): Map<string, ValueSetCodes> {
  const byUrl = new Map<string, ValueSetCodes>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const vs = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as ValueSet;
    byUrl.set(vs.url as string, {
      url: vs.url as string,
      title: vs.title ?? vs.name ?? (vs.url as string),
      codes: (vs.compose?.include ?? []).map((inc) => ({
        system: inc.system ?? '',
        concepts: (inc.concept ?? []).map((c) => ({ code: c.code, ...(c.display ? { display: c.display } : {}) })),
      })),
    });
  }
  return byUrl;
}

/** Criterion id -> what it reads, for every criterion the pack's criteria list names. */
export function criterionRequirements(pack: PolicyPack): Map<string, CriterionRequirements> {
  const { elm } = pack;
  const statements = statementsByName(elm);
  const fail = (what: string): never => {
    throw new Error(`${elm.library.identifier.id}: ${what}`);
  };
  const idOf = criterionIdReader(statements, fail);
  const valueSetUrls = new Map((elm.library.valueSets?.def ?? []).map((d) => [d.name, d.id]));
  const valueSets = readValueSets(pack.valueSetDir);

  // Every criterion expression of every branch of the criteria list.
  const criteriaExpression = statements.get(pack.manifest.cql.criteria)?.[0]?.expression as ElmNode | undefined;
  const elements: ElmNode[] = [];
  for (const node of walk(criteriaExpression)) if (node.type === 'List') elements.push(...((node.element as ElmNode[]) ?? []));

  const found = new Map<string, { valueSets: Set<string>; parameters: Set<string> }>();
  for (const element of elements) {
    const id = idOf(element);
    const into = found.get(id) ?? { valueSets: new Set<string>(), parameters: new Set<string>() };
    found.set(id, into);
    const seen = new Set<string>();
    const pending: unknown[] = [element];
    for (let steps = 0; pending.length > 0 && steps < 10_000; steps++) {
      for (const node of walk(pending.pop())) {
        if (node.libraryName) continue;
        if (node.type === 'ValueSetRef') into.valueSets.add(node.name as string);
        else if (node.type === 'ParameterRef') into.parameters.add(node.name as string);
        else if ((node.type === 'ExpressionRef' || node.type === 'FunctionRef') && !seen.has(node.name as string)) {
          seen.add(node.name as string);
          for (const def of statements.get(node.name as string) ?? []) pending.push(def.expression);
        }
      }
    }
  }

  const result = new Map<string, CriterionRequirements>();
  for (const [id, { valueSets: names, parameters }] of found) {
    result.set(id, {
      valueSets: [...names]
        .map((name) => valueSets.get(valueSetUrls.get(name) ?? ''))
        .filter((vs): vs is ValueSetCodes => vs !== undefined)
        .sort((a, b) => a.title.localeCompare(b.title)),
      parameters: [...parameters]
        .map((name) => ({ name, value: pack.parameterValues.get(name) }))
        .filter((p): p is { name: string; value: QuantityValue | number } => isBound(p.value))
        .sort((a, b) => a.name.localeCompare(b.name)),
    });
  }
  return result;
}
