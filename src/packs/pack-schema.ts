/**
 * The shape of a policy pack's data file (`policies/<id>/pack.json`): what a policy needs that is not logic.
 * Checked with ajv when the pack is loaded, so a typo stops startup with the field's path instead of showing up
 * as a blank on a card.
 */
import type { JSONSchemaType } from 'ajv';

export interface PackSetting {
  /** The CQL parameter the setting binds. */
  parameter: string;
  type: 'boolean' | 'integer' | 'decimal' | 'string';
  default: boolean | number | string;
  description: string;
}

export interface PackCriterionText {
  /** Short name on a card's checklist. */
  title: string;
  /** One line on the policy page: what the service looks for. */
  explanation: string;
  /** A sentence the card adds when the criterion is not met. */
  cardTextWhenNotMet?: string;
  /** The criterion in a few plain words, lower case: the card's summary and lists (default: the title). */
  short?: string;
  /** What to add to the record when the criterion is not documented, following its short name (default: the note). */
  toDocument?: string;
}

export type PackStatus = 'met' | 'not-met' | 'not-documented' | 'not-applicable';

/** An override reason the cards offer; with `criteria` or `statuses`, only on cards with such a gap. */
export interface PackOverrideReason extends PackCoding {
  /** Offered only when one of these criteria is a gap (default: any criterion). */
  criteria?: string[];
  /** Offered only for gaps with one of these statuses (default: not met or not documented). */
  statuses?: Array<'not-met' | 'not-documented'>;
}

/**
 * The card's own words. Placeholders in braces are filled by the card builder: {order} (procedure and code),
 * {policy}, {count}, {group}, {names}, {gaps}, {date}, {pathway}, {pathways}, {keys}.
 */
export interface PackCardText {
  summaryGaps: string;
  summaryNotMet: string;
  summaryToDocument: string;
  summaryNames: string;
  summaryMore: string;
  summaryClean: string;
  summaryUndetermined: string;
  orderDate: string;
  indication: string;
  otherPathways: string;
  /** Heading of each status's part of the detail. */
  sections: Record<PackStatus, string>;
  /** A distinct mark for each status. */
  markers: Record<PackStatus, string>;
  latestOutsideWindow: string;
  partialRecord: string;
}

export interface PackPathway {
  label: string;
  /** What the pathway's criteria are ("coverage criteria", "documentation requirements"); absent for the fallback. */
  kind?: string;
  /** Medical necessity is decided by the external criteria named in `externalCriteria`. */
  externalCriteria?: boolean;
  /** The pathway the CQL gives when no indication was found (the card asks for it). */
  undetermined?: boolean;
}

export interface PackSuggestion {
  /** Criteria whose `not-documented` status this order addresses. */
  criteria: string[];
  label: string;
  description: string;
  resourceType: 'ServiceRequest';
  code: { coding: Array<{ system: string; code: string; display?: string }>; text?: string };
}

export interface PackCoding {
  system: string;
  code: string;
  display: string;
}

/** The policy page's per-criterion section for reviewers; {count} is filled by the page. */
export interface PackCriterionDetailTexts {
  heading: string;
  intro: string;
  contains: string;
  windows: string;
  noWindows: string;
  codes: string;
  noCodes: string;
  codeCount: string;
}

export interface PackPageSection {
  heading?: string;
  paragraphs: string[];
}

export interface PackManifest {
  id: string;
  title: string;
  /** YYYY-MM-DD */
  effective: string;
  /** Where the policy comes from (document, number); shown to reviewers. */
  source: string;
  /** `source.label` of the pack's cards. */
  label: string;
  cql: {
    library: string;
    /** Expression returning the evaluation tuple (criteria.md section 4). */
    evaluation: string;
    /** Expression returning the order's phase, or null when the pack does not govern the order. */
    phase: string;
    /** Expression listing the criteria per pathway and phase (a Case on the pathway and phase expressions). */
    criteria: string;
    pathway: string;
  };
  /** Deployment settings (environment variable name -> CQL parameter). */
  settings: Record<string, PackSetting>;
  codeSystemNames: Record<string, string>;
  phases: Record<string, { label: string; only: string }>;
  /** How the policy page names a criterion that applies to every phase. */
  allPhases: string;
  pathways: Record<string, PackPathway>;
  undeterminedDetail: string;
  externalCriteria?: { name: string; card: string; page: string };
  criteria: Record<string, PackCriterionText>;
  suggestions: PackSuggestion[];
  overrideReasons: PackOverrideReason[];
  card: PackCardText;
  page: { heading: string; sections: PackPageSection[]; criteriaHeading: string; criterionDetails: PackCriterionDetailTexts; closing: string[] };
}

const text = { type: 'string', minLength: 1 } as const;
const statusTexts = {
  type: 'object',
  additionalProperties: false,
  required: ['met', 'not-met', 'not-documented', 'not-applicable'],
  properties: { met: text, 'not-met': text, 'not-documented': text, 'not-applicable': text },
} as const;

export const packSchema: JSONSchemaType<PackManifest> = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title', 'effective', 'source', 'label', 'cql', 'settings', 'codeSystemNames', 'phases', 'allPhases', 'pathways', 'undeterminedDetail', 'criteria', 'suggestions', 'overrideReasons', 'card', 'page'],
  properties: {
    $comment: { type: 'string', nullable: true },
    id: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
    title: text,
    effective: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
    source: text,
    label: text,
    cql: {
      type: 'object',
      additionalProperties: false,
      required: ['library', 'evaluation', 'phase', 'criteria', 'pathway'],
      properties: { library: text, evaluation: text, phase: text, criteria: text, pathway: text },
    },
    settings: {
      type: 'object',
      required: [],
      propertyNames: { pattern: '^[A-Z][A-Z0-9_]*$' },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['parameter', 'type', 'default', 'description'],
        properties: {
          parameter: text,
          type: { type: 'string', enum: ['boolean', 'integer', 'decimal', 'string'] },
          default: { type: ['boolean', 'number', 'string'] } as never,
          description: text,
        },
      },
    },
    codeSystemNames: { type: 'object', required: [], additionalProperties: text },
    phases: {
      type: 'object',
      required: [],
      minProperties: 1,
      additionalProperties: { type: 'object', additionalProperties: false, required: ['label', 'only'], properties: { label: text, only: text } },
    },
    allPhases: text,
    pathways: {
      type: 'object',
      required: [],
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['label'],
        properties: {
          label: text,
          kind: { ...text, nullable: true },
          externalCriteria: { type: 'boolean', nullable: true },
          undetermined: { type: 'boolean', nullable: true },
        },
      },
    },
    undeterminedDetail: text,
    externalCriteria: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      required: ['name', 'card', 'page'],
      properties: { name: text, card: text, page: text },
    },
    criteria: {
      type: 'object',
      required: [],
      minProperties: 1,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'explanation'],
        properties: {
          title: text,
          explanation: text,
          cardTextWhenNotMet: { ...text, nullable: true },
          short: { ...text, nullable: true },
          toDocument: { ...text, nullable: true },
        },
      },
    },
    suggestions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['criteria', 'label', 'description', 'resourceType', 'code'],
        properties: {
          criteria: { type: 'array', items: text, minItems: 1 },
          label: text,
          description: text,
          resourceType: { type: 'string', const: 'ServiceRequest' },
          code: {
            type: 'object',
            additionalProperties: false,
            required: ['coding'],
            properties: {
              coding: {
                type: 'array',
                minItems: 1,
                items: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['system', 'code'],
                  properties: { system: text, code: text, display: { ...text, nullable: true } },
                },
              },
              text: { ...text, nullable: true },
            },
          },
        },
      },
    },
    overrideReasons: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['system', 'code', 'display'],
        properties: {
          system: text,
          code: text,
          display: text,
          criteria: { type: 'array', items: text, minItems: 1, nullable: true },
          statuses: { type: 'array', items: { type: 'string', enum: ['not-met', 'not-documented'] }, minItems: 1, nullable: true },
        },
      },
    },
    card: {
      type: 'object',
      additionalProperties: false,
      required: [
        'summaryGaps', 'summaryNotMet', 'summaryToDocument', 'summaryNames', 'summaryMore', 'summaryClean', 'summaryUndetermined',
        'orderDate', 'indication', 'otherPathways', 'sections', 'markers', 'latestOutsideWindow', 'partialRecord',
      ],
      properties: {
        summaryGaps: text,
        summaryNotMet: text,
        summaryToDocument: text,
        summaryNames: text,
        summaryMore: text,
        summaryClean: text,
        summaryUndetermined: text,
        orderDate: text,
        indication: text,
        otherPathways: text,
        sections: statusTexts,
        markers: statusTexts,
        latestOutsideWindow: text,
        partialRecord: text,
      },
    },
    page: {
      type: 'object',
      additionalProperties: false,
      required: ['heading', 'sections', 'criteriaHeading', 'criterionDetails', 'closing'],
      properties: {
        heading: text,
        sections: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['paragraphs'],
            properties: { heading: { ...text, nullable: true }, paragraphs: { type: 'array', items: text } },
          },
        },
        criteriaHeading: text,
        criterionDetails: {
          type: 'object',
          additionalProperties: false,
          required: ['heading', 'intro', 'contains', 'windows', 'noWindows', 'codes', 'noCodes', 'codeCount'],
          properties: { heading: text, intro: text, contains: text, windows: text, noWindows: text, codes: text, noCodes: text, codeCount: text },
        },
        closing: { type: 'array', items: text },
      },
    },
  },
} as unknown as JSONSchemaType<PackManifest>;
