/**
 * Converts the CQL "Evaluation" tuple into the `policy-evaluation` extension shape, dropping empty optional
 * fields (criteria.md: evidence is left out when there is none; otherPathways when no other pathway was found).
 */
import type { CriterionResult, EvaluationDates, CriterionStatus, Pathway, Phase, PolicyEvaluation } from './types';

export interface EvaluationTuple {
  order: string;
  code: { system?: string | null; code?: string | null; display?: string | null };
  phase: Phase;
  pathway: Pathway;
  otherPathways?: Pathway[] | null;
  criteria: Array<{ id: string; status: CriterionStatus; evidence?: Array<string | null> | null; note?: string | null }>;
  /** The date the windows count back from, as the CQL's ToString of a Date. */
  orderDate?: string | null;
  /** Per criterion, the latest record of its kind before its window (date null when there is none). */
  latestOutsideWindow?: Array<{ id?: string | null; date?: string | null } | null> | null;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The tuple's dates for the card text; malformed or missing values are left out. */
export function toEvaluationDates(tuple: EvaluationTuple): EvaluationDates {
  const dates: EvaluationDates = {};
  if (typeof tuple.orderDate === 'string' && DATE.test(tuple.orderDate)) dates.orderDate = tuple.orderDate;
  const latest: Record<string, string> = {};
  for (const entry of tuple.latestOutsideWindow ?? []) {
    const date = entry?.date?.slice(0, 10);
    if (typeof entry?.id === 'string' && date && DATE.test(date)) latest[entry.id] = date;
  }
  if (Object.keys(latest).length > 0) dates.latestOutsideWindow = latest;
  return dates;
}

export function toPolicyEvaluation(tuple: EvaluationTuple, policy: string): PolicyEvaluation {
  const evaluation: PolicyEvaluation = {
    policy,
    order: tuple.order,
    code: {
      system: tuple.code?.system ?? '',
      code: tuple.code?.code ?? '',
      ...(tuple.code?.display ? { display: tuple.code.display } : {}),
    },
    phase: tuple.phase,
    pathway: tuple.pathway,
    criteria: (tuple.criteria ?? []).map(toCriterion),
  };
  const others = (tuple.otherPathways ?? []).filter((p): p is Pathway => typeof p === 'string');
  if (others.length > 0) evaluation.otherPathways = others;
  return evaluation;
}

function toCriterion(c: EvaluationTuple['criteria'][number]): CriterionResult {
  const evidence = (c.evidence ?? []).filter((e): e is string => typeof e === 'string' && e !== '');
  return {
    id: c.id,
    status: c.status,
    ...(evidence.length > 0 ? { evidence } : {}),
    ...(c.note ? { note: c.note } : {}),
  };
}
