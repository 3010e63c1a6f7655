/**
 * Definitions of a library whose value is the same for every patient and every call: they read no record, no
 * parameter and no clock, only literals, value sets and pure functions of those (a pack's whole-word patterns,
 * built from its value sets' displays, are such). cql-execution evaluates a definition once per evaluation; these
 * are evaluated once per value-set service (in practice once per pack) and remembered, which is the "do the
 * expensive things once" rule applied to the CQL itself. Found from the ELM when the library is loaded.
 */
import type { Library } from 'cql-execution';
import type { ElmLibraryJson } from './elm';

type Node = Record<string, unknown>;
interface Statement {
  name: string;
  type?: string;
  expression?: Node;
}

/** ELM node types whose value depends on the patient, the call or the clock. */
const VARYING = new Set(['Retrieve', 'ParameterRef', 'Now', 'Today', 'TimeOfDay', 'IdentifierRef', 'Message']);

function statementsOf(elm: ElmLibraryJson): Statement[] {
  return ((elm.library as { statements?: { def?: Statement[] } }).statements?.def ?? []) as Statement[];
}

function includesOf(elm: ElmLibraryJson): Map<string, string> {
  const defs = (elm.library as { includes?: { def?: Array<{ localIdentifier: string; path: string }> } }).includes?.def ?? [];
  return new Map(defs.map((d) => [d.localIdentifier, d.path]));
}

/** The names of the main library's definitions that are constant (see above). */
export function constantDefinitions(main: ElmLibraryJson, all: Record<string, ElmLibraryJson>): Set<string> {
  // Verdicts per `library|name` (functions: all overloads); `false` while being decided, so recursion counts as varying.
  const verdicts = new Map<string, boolean>();
  const libraryFor = (from: ElmLibraryJson, alias: unknown): ElmLibraryJson | undefined =>
    typeof alias === 'string' ? all[includesOf(from).get(alias) ?? ''] : from;

  const isConstant = (library: ElmLibraryJson, name: string, kind: 'define' | 'function'): boolean => {
    const key = `${library.library.identifier.id}|${kind}|${name}`;
    const known = verdicts.get(key);
    if (known !== undefined) return known;
    verdicts.set(key, false);
    const defs = statementsOf(library).filter((s) => s.name === name && (s.type === 'FunctionDef') === (kind === 'function'));
    const verdict = defs.length > 0 && defs.every((d) => d.expression !== undefined && nodeIsConstant(library, d.expression));
    verdicts.set(key, verdict);
    return verdict;
  };

  const nodeIsConstant = (library: ElmLibraryJson, node: unknown): boolean => {
    if (Array.isArray(node)) return node.every((n) => nodeIsConstant(library, n));
    if (node === null || typeof node !== 'object') return true;
    const n = node as Node;
    const type = n.type;
    if (typeof type === 'string') {
      if (VARYING.has(type)) return false;
      if (type === 'ExpressionRef' || type === 'FunctionRef') {
        const target = libraryFor(library, n.libraryName);
        if (!target || !isConstant(target, n.name as string, type === 'ExpressionRef' ? 'define' : 'function')) return false;
      }
    }
    for (const [key, value] of Object.entries(n)) {
      if (key === 'annotation' || key === 'resultTypeSpecifier') continue;
      if (typeof value === 'object' && value !== null && !nodeIsConstant(library, value)) return false;
    }
    return true;
  };

  const names = new Set<string>();
  for (const statement of statementsOf(main)) {
    if (statement.type === 'FunctionDef' || !statement.expression) continue;
    // The context definition (`Patient`) is a retrieve; a define of the Unfiltered context is shared already.
    if (isConstant(main, statement.name, 'define')) names.add(statement.name);
  }
  return names;
}

interface EvaluationContext {
  rootContext(): { codeService?: object; set(name: string, value: unknown): void };
}
interface ExpressionDefinition {
  name: string;
  exec(ctx: EvaluationContext): Promise<unknown>;
}

/**
 * Makes the library remember the value of each constant definition per value-set service. Only values that
 * cannot be changed by whoever reads them (strings, numbers, booleans, null) are remembered.
 */
export function rememberConstantDefinitions(library: Library, names: Iterable<string>): void {
  const expressions = (library as unknown as { expressions: Record<string, ExpressionDefinition> }).expressions;
  for (const name of names) {
    const definition = expressions[name];
    if (!definition) continue;
    const evaluate = definition.exec.bind(definition);
    const remembered = new WeakMap<object, unknown>();
    const withoutCodeService = {};
    definition.exec = async (ctx) => {
      const root = ctx.rootContext();
      const key = root.codeService ?? withoutCodeService;
      if (remembered.has(key)) {
        const value = remembered.get(key);
        root.set(name, value);
        return value;
      }
      const value = await evaluate(ctx);
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) remembered.set(key, value);
      return value;
    };
  }
}
