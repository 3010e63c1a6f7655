/** Reading ELM JSON (the translator's output in build/elm/) as a plain tree: the pack loader derives data from it. */

export type ElmNode = { type?: string; name?: string; [key: string]: unknown };

export interface ElmLibrary {
  library: {
    identifier: { id: string; version?: string };
    parameters?: { def?: ElmNode[] };
    valueSets?: { def?: Array<{ name: string; id: string }> };
    statements?: { def?: ElmNode[] };
  };
}

/** Every node below `node` (itself included), depth first; annotations are skipped. */
export function* walk(node: unknown): Generator<ElmNode> {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const item of node) yield* walk(item);
    return;
  }
  const n = node as ElmNode;
  if (typeof n.type === 'string') yield n;
  for (const [key, value] of Object.entries(n)) {
    if (key !== 'annotation' && value !== null && typeof value === 'object') yield* walk(value);
  }
}

/** The library's own statements (defines and functions) by name; functions may be overloaded. */
export function statementsByName(elm: ElmLibrary): Map<string, ElmNode[]> {
  const byName = new Map<string, ElmNode[]>();
  for (const def of elm.library.statements?.def ?? []) {
    const list = byName.get(def.name as string) ?? [];
    list.push(def);
    byName.set(def.name as string, list);
  }
  return byName;
}
