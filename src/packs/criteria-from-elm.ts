/**
 * Which criteria apply to each pathway and phase, read from the pack's CQL (its criteria expression, a Case on the
 * pathway and phase expressions whose branches list the criterion expressions). Derived from the ELM at startup,
 * so the policy page and the tests can never disagree with what the engine evaluates.
 *
 * A criterion's id is the string literal its expression passes to a result constructor: a CQL function whose body is
 * a Tuple with an `id` element taken from one of its operands (the policy's "Result"(id, status, evidence, note)).
 */
import { statementsByName, walk, type ElmLibrary, type ElmNode } from './elm-walk';

export interface CriteriaNames {
  criteria: string;
  pathway: string;
  phase: string;
}

/** pathway -> phase -> criterion ids in the CQL's order. */
export type CriteriaTable = Map<string, Map<string, string[]>>;

export function criteriaTable(elm: ElmLibrary, names: CriteriaNames, pathways: string[], phases: string[]): CriteriaTable {
  const library = elm.library.identifier.id;
  const fail = (what: string): never => {
    throw new Error(`${library}: cannot derive the criteria list from "${names.criteria}": ${what}`);
  };
  const statements = statementsByName(elm);
  const expression = statements.get(names.criteria)?.[0]?.expression as ElmNode | undefined;
  if (!expression) return fail('no such expression');
  if (expression.type !== 'Case' || expression.comparand) return fail('it must be a `case when ... then { ... } ... else { ... } end`');
  const items = (expression.caseItem as Array<{ when: ElmNode; then: ElmNode }>) ?? [];
  const idOf = criterionIdReader(statements, fail);

  const holds = (node: ElmNode, pathway: string, phase: string): boolean => {
    const operands = (node.operand as ElmNode[] | undefined) ?? [];
    switch (node.type) {
      case 'And':
        return operands.every((o) => holds(o, pathway, phase));
      case 'Or':
        return operands.some((o) => holds(o, pathway, phase));
      case 'Not':
        return !holds(node.operand as unknown as ElmNode, pathway, phase);
      case 'Equal': {
        const ref = operands.find((o) => o.type === 'ExpressionRef' && !o.libraryName);
        const literal = operands.find((o) => o.type === 'Literal');
        if (!ref || !literal) break;
        if (ref.name === names.pathway) return literal.value === pathway;
        if (ref.name === names.phase) return literal.value === phase;
        break;
      }
    }
    return fail(`a condition compares something other than "${names.pathway}" or "${names.phase}" with a literal (${node.type})`);
  };

  // Every literal the conditions compare with must be a pathway or phase the pack names.
  for (const item of items) {
    for (const node of walk(item.when)) {
      if (node.type === 'Literal' && !pathways.includes(String(node.value)) && !phases.includes(String(node.value))) {
        fail(`'${String(node.value)}' is neither a pathway nor a phase of pack.json`);
      }
    }
  }

  const listIds = (list: ElmNode): string[] => {
    if (list.type !== 'List') return fail(`a branch is a ${list.type}, not a list of criteria`);
    const ids = ((list.element as ElmNode[]) ?? []).map(idOf);
    const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
    if (duplicate) fail(`criterion '${duplicate}' is listed twice in one branch`);
    return ids;
  };

  const table: CriteriaTable = new Map();
  for (const pathway of pathways) {
    const byPhase = new Map<string, string[]>();
    for (const phase of phases) {
      const item = items.find((i) => holds(i.when, pathway, phase));
      byPhase.set(phase, listIds(item ? item.then : (expression.else as ElmNode)));
    }
    table.set(pathway, byPhase);
  }
  return table;
}

/** Reads a criterion's id from a criterion expression (an ExpressionRef or a FunctionRef of the criteria list). */
export function criterionIdReader(statements: Map<string, ElmNode[]>, fail: (what: string) => never): (node: ElmNode) => string {
  // Result constructors: functions whose body is a Tuple whose `id` is one of their operands.
  const constructors = new Map<string, number>();
  for (const [name, defs] of statements) {
    for (const def of defs) {
      if (def.type !== 'FunctionDef') continue;
      const body = def.expression as ElmNode | undefined;
      const id = body?.type === 'Tuple' ? (body.element as Array<{ name: string; value: ElmNode }>).find((e) => e.name === 'id') : undefined;
      if (id?.value.type !== 'OperandRef') continue;
      const index = ((def.operand as ElmNode[]) ?? []).findIndex((o) => o.name === id.value.name);
      if (index >= 0) constructors.set(name, index);
    }
  }

  const directIds = (node: unknown): Set<string> => {
    const ids = new Set<string>();
    for (const n of walk(node)) {
      const index = n.type === 'FunctionRef' && !n.libraryName ? constructors.get(n.name as string) : undefined;
      const argument = index === undefined ? undefined : (n.operand as ElmNode[])[index];
      if (argument?.type === 'Literal') ids.add(String(argument.value));
    }
    return ids;
  };

  // Breadth first through the definitions the expression refers to, until a level names an id.
  return (node) => {
    const seen = new Set<string>();
    let level: unknown[] = [node];
    for (let depth = 0; depth < 20 && level.length > 0; depth++) {
      const ids = new Set(level.flatMap((n) => [...directIds(n)]));
      if (ids.size === 1) return [...ids][0];
      if (ids.size > 1) fail(`the criterion "${String(node.name)}" names several ids (${[...ids].join(', ')})`);
      const next: unknown[] = [];
      for (const n of level) {
        for (const ref of walk(n)) {
          if ((ref.type !== 'ExpressionRef' && ref.type !== 'FunctionRef') || ref.libraryName || seen.has(ref.name as string)) continue;
          seen.add(ref.name as string);
          for (const def of statements.get(ref.name as string) ?? []) next.push(def.expression);
        }
      }
      level = next;
    }
    return fail(`no criterion id found for "${String(node.name)}"`);
  };
}
