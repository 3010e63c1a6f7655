/**
 * The CQL parameters of a pack's library as values: the defaults written in the CQL (read from the ELM), and how
 * a value reads in a text ("24 months", "50%", "morphine, fentanyl or baclofen"). Texts quote parameters so a
 * changed window changes what the card and the policy page say.
 */
import type { ElmNode } from './elm-walk';

export interface QuantityValue {
  value: number;
  unit: string;
}

export type ParameterValue = boolean | number | string | QuantityValue | ParameterValue[] | null;

/** The library's parameter names with their default values (null: no default, or one that is not a literal). */
export function parameterDefaults(parameterDefs: ElmNode[]): Map<string, ParameterValue> {
  return new Map(parameterDefs.map((def) => [def.name as string, def.default ? literalValue(def.default as ElmNode) : null]));
}

function literalValue(node: ElmNode): ParameterValue {
  switch (node.type) {
    case 'Literal': {
      const type = String(node.valueType ?? '');
      const raw = String(node.value);
      if (type.endsWith('}Boolean')) return raw === 'true';
      if (type.endsWith('}Integer') || type.endsWith('}Decimal')) return Number(raw);
      return raw;
    }
    case 'Quantity':
      return { value: Number(node.value), unit: String(node.unit) };
    case 'List':
      return ((node.element as ElmNode[] | undefined) ?? []).map(literalValue);
    case 'Query': {
      // The translator writes `default { }` as a query over an empty list.
      const source = (node.source as ElmNode[] | undefined)?.[0]?.expression as ElmNode | undefined;
      return source?.type === 'List' ? literalValue(source) : null;
    }
    default:
      return null;
  }
}

const CALENDAR_UNITS = new Set(['year', 'month', 'week', 'day', 'hour', 'minute', 'second']);

function quantityText({ value, unit }: QuantityValue): string {
  const singular = unit.replace(/s$/, '');
  if (!CALENDAR_UNITS.has(singular)) return `${value} ${unit}`;
  return `${value} ${value === 1 ? singular : `${singular}s`}`;
}

export type ParameterFormat = 'percent' | 'or-list' | 'and-list';
export const PARAMETER_FORMATS: readonly ParameterFormat[] = ['percent', 'or-list', 'and-list'];

function joinList(items: string[], word: string): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}

/** How a parameter value reads in a sentence; undefined when the format does not fit the value. */
export function formatParameter(value: ParameterValue, format?: ParameterFormat): string | undefined {
  if (value === null) return undefined;
  if (format === 'percent') return typeof value === 'number' ? `${Math.round(value * 1000) / 10}%` : undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => formatParameter(v)).filter((v): v is string => v !== undefined);
    return joinList(items, format === 'and-list' ? 'and' : 'or');
  }
  if (format) return undefined;
  if (typeof value === 'object') return quantityText(value);
  return String(value);
}
