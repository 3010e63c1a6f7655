/**
 * Words the cards and the policy page show for the policy, its pathways and its criteria
 * (ids from ../shared/policy/criteria.md). Presentation only: which criteria apply and their
 * results come from the evaluator.
 */
import type { CriterionStatus, Pathway, Phase } from '../engine/types';

export const POLICY = {
  id: '2022T0626C',
  title: 'Implanted Spinal Drug Delivery Systems',
  effective: '2022-05-01',
  label: 'Implanted Spinal Drug Delivery Systems (2022T0626C)',
  pagePath: '/policy/2022T0626C',
} as const;

export const INTERQUAL_NAME = 'InterQual CP: Procedures, Epidural or Intrathecal Catheter Placement';

export const PATHWAY_LABELS: Record<Pathway, string> = {
  'cancer-pain': 'cancer-related pain',
  spasticity: 'severe spasticity',
  'chronic-non-malignant-pain': 'chronic intractable non-malignant pain',
  undetermined: 'indication not determined',
};

export const PHASE_LABELS: Record<Phase, string> = {
  trial: 'Intrathecal drug infusion trial',
  implant: 'Intrathecal drug delivery implant',
};

export const STATUS_LABELS: Record<CriterionStatus, string> = {
  met: 'met',
  'not-met': 'not met',
  'not-documented': 'not documented',
  'not-applicable': 'not applicable',
};

export interface CriterionText {
  /** Short name on a card's checklist. */
  title: string;
  /** One line on the policy page: what the service looks for. */
  explanation: string;
}

export const CRITERIA: Record<string, CriterionText> = {
  'age-18': {
    title: 'Age 18 or older',
    explanation: "Age on the order date, from the patient's birth date. The policy does not address anyone younger.",
  },
  'cnmp-etiology': {
    title: 'Cause of the pain documented',
    explanation: 'An active diagnosis from the chronic non-malignant pain value set is on the record (the order\'s own reason code alone does not count).',
  },
  'cnmp-no-further-treatment': {
    title: 'No further treatment of the cause indicated, or declined',
    explanation: 'A procedure recorded as not done because of the pain condition, or a record that a procedure was contraindicated or refused.',
  },
  'cnmp-conservative-6mo': {
    title: 'Six months of conservative therapy',
    explanation: 'Pain medication, physical therapy or behavioral treatment in the last 24 months, spanning at least six months.',
  },
  'cnmp-conservative-failure': {
    title: 'Conservative therapy failed or not tolerated',
    explanation: 'A conservative therapy stopped with a reason, or an intolerance to a pain medication, in the same 24 months.',
  },
  'cnmp-psych-clearance': {
    title: 'Psychological evaluation without untreated psychiatric or substance-use condition',
    explanation: 'A psychological evaluation in the last 12 months, and every active psychiatric or substance-use condition under treatment.',
  },
  'trial-completed': {
    title: 'Intrathecal drug trial completed',
    explanation: 'A completed intrathecal trial procedure before the order (a steroid injection is not a trial); the latest one is the trial the other criteria read.',
  },
  'cnmp-trial-pain-reduction-50': {
    title: 'Pain reduced by at least 50% during the trial',
    explanation: 'The lowest pain score during the trial compared with the latest score in the 90 days before it.',
  },
  'metastases-documented': {
    title: 'Metastatic lesions documented',
    explanation: 'A diagnosis of secondary malignant neoplasm (presence and site), or a refuted one recording their absence.',
  },
  'icp-documented': {
    title: 'Intracranial pressure documented',
    explanation: 'A diagnosis of raised intracranial pressure (or its refutation), or an intracranial pressure measurement in the last 12 months.',
  },
  'life-expectancy-documented': {
    title: 'Life expectancy documented',
    explanation: 'A prognosis observation in the last 12 months.',
  },
  'prior-treatments-documented': {
    title: 'Prior treatments and why they stopped documented',
    explanation: 'At least one earlier treatment (medication or procedure) recorded with the reason it stopped or was not done, and its date.',
  },
  'trial-pain-reduction-documented': {
    title: 'Pain reduction during the trial documented',
    explanation: 'Pain scores before and during the trial are both on the record, so the reduction can be stated.',
  },
  'spasticity-function-documented': {
    title: 'Functional impairment documented',
    explanation: 'A functional status assessment (for example Barthel index or FIM) in the last 12 months.',
  },
  'spasticity-scale-documented': {
    title: 'Spasticity scale documented',
    explanation: 'A Modified Ashworth or Penn Spasm Frequency score in the last 12 months.',
  },
  'psych-history-documented': {
    title: 'Psychiatric and substance-use history documented',
    explanation: 'A psychological evaluation, a depression, anxiety, alcohol or drug screening, or a psychiatric or substance-use diagnosis, in the last 24 months.',
  },
  'spasticity-scale-reduction': {
    title: 'Spasticity scale improved during the trial',
    explanation: 'A lower Modified Ashworth or Penn score during the trial than in the 90 days before it, on the same scale.',
  },
};

/** The checklist of each pathway, for the policy page (criteria.md section 3). */
export const PATHWAY_CRITERIA: { pathway: Exclude<Pathway, 'undetermined'>; kind: string; criteria: { id: string; phase: Phase | 'both' }[] }[] = [
  {
    pathway: 'chronic-non-malignant-pain',
    kind: 'coverage criteria',
    criteria: [
      { id: 'age-18', phase: 'both' },
      { id: 'cnmp-etiology', phase: 'both' },
      { id: 'cnmp-no-further-treatment', phase: 'both' },
      { id: 'cnmp-conservative-6mo', phase: 'both' },
      { id: 'cnmp-conservative-failure', phase: 'both' },
      { id: 'cnmp-psych-clearance', phase: 'both' },
      { id: 'trial-completed', phase: 'implant' },
      { id: 'cnmp-trial-pain-reduction-50', phase: 'implant' },
    ],
  },
  {
    pathway: 'cancer-pain',
    kind: 'documentation requirements',
    criteria: [
      { id: 'age-18', phase: 'both' },
      { id: 'metastases-documented', phase: 'both' },
      { id: 'icp-documented', phase: 'both' },
      { id: 'life-expectancy-documented', phase: 'both' },
      { id: 'prior-treatments-documented', phase: 'both' },
      { id: 'trial-completed', phase: 'implant' },
      { id: 'trial-pain-reduction-documented', phase: 'implant' },
    ],
  },
  {
    pathway: 'spasticity',
    kind: 'documentation requirements',
    criteria: [
      { id: 'age-18', phase: 'both' },
      { id: 'spasticity-function-documented', phase: 'both' },
      { id: 'spasticity-scale-documented', phase: 'both' },
      { id: 'prior-treatments-documented', phase: 'both' },
      { id: 'psych-history-documented', phase: 'both' },
      { id: 'icp-documented', phase: 'both' },
      { id: 'trial-completed', phase: 'implant' },
      { id: 'spasticity-scale-reduction', phase: 'implant' },
      { id: 'trial-pain-reduction-documented', phase: 'implant' },
    ],
  },
];

/** Pathways whose medical necessity InterQual decides; the service checks only their documentation. */
export const INTERQUAL_PATHWAYS: ReadonlySet<Pathway> = new Set(['cancer-pain', 'spasticity']);

export function criterionTitle(id: string): string {
  return CRITERIA[id]?.title ?? id;
}
