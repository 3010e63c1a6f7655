/**
 * Converts the CQL "Evaluation" tuple into the `policy-evaluation` extension shape, dropping empty optional
 * fields (criteria.md: evidence is left out when there is none; otherPathways when no other pathway was found).
 */
import type { CriterionResult, CriterionStatus, Pathway, Phase, PolicyEvaluation } from './types';

export interface EvaluationTuple {
  order: string;
  code: { system?: string | null; code?: string | null; display?: string | null };
  phase: Phase;
  pathway: Pathway;
  otherPathways?: Pathway[] | null;
  criteria: Array<{ id: string; status: CriterionStatus; evidence?: Array<string | null> | null; note?: string | null }>;
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
