/**
 * A `policy-evaluation` for tests that only need its shape: a CNMP implant order (CPT 62362) with the criteria
 * the test gives; any field can be overridden.
 */
import type { CriterionResult, PolicyEvaluation } from '../../src/engine/types';

export function implantEvaluation(criteria: CriterionResult[], overrides: Partial<PolicyEvaluation> = {}): PolicyEvaluation {
  return {
    policy: '2022T0626C',
    order: 'ServiceRequest/sr1',
    code: { system: 'http://www.ama-assn.org/go/cpt', code: '62362' },
    phase: 'implant',
    pathway: 'chronic-non-malignant-pain',
    criteria,
    ...overrides,
  };
}
