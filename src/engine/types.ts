/**
 * The shapes of a policy evaluation: the `policy-evaluation` card extension of
 * ../shared/policy/criteria.md section 4 (a public contract) plus what the evaluator
 * reports beside it.
 */
import type { Bundle, DeviceRequest, Resource, ServiceRequest } from 'fhir/r4';
import type { PolicyPack } from '../packs/load-packs';

export type CriterionStatus = 'met' | 'not-met' | 'not-documented' | 'not-applicable';
/** A pathway id of the pack's CQL (pack.json names them). */
export type Pathway = string;
/** A phase id of the pack's CQL (pack.json names them). */
export type Phase = string;

export interface CriterionResult {
  id: string;
  status: CriterionStatus;
  /** `Type/id` references the status rests on; omitted when there are none. */
  evidence?: string[];
  note?: string;
}

/** Exactly the `policy-evaluation` extension value of criteria.md section 4. */
export interface PolicyEvaluation {
  /** The pack's id (the policy number). */
  policy: string;
  /** `Type/id` of the evaluated draft order. */
  order: string;
  /** The coding that triggered the evaluation. */
  code: { system: string; code: string; display?: string };
  phase: Phase;
  pathway: Pathway;
  /** Omitted when no other pathway matched. */
  otherPathways?: Pathway[];
  criteria: CriterionResult[];
}

/** A resource, or an element of one, that the evaluator could not read and left out, and why (never its contents). */
export interface SkippedResource {
  /** `Type/id`, or `Type[index]` when the resource has no id; prefixed `draftOrders: ` for a draft order. */
  reference: string;
  /** The resource type, for counts ('entry' when it is not a resource). */
  resourceType?: string;
  /** The element left out (`dosageInstruction[0].timing`); absent when the whole resource was. */
  path?: string;
  reason: string;
}

/**
 * One hook call's draft orders and record, read (intake) and indexed once by `PolicyEngine.prepareRecord`;
 * every order of the call is evaluated against it.
 */
export interface PreparedRecord {
  /**
   * Everything intake left out of the draft orders and the record. A record resource's elements are checked when
   * the CQL first reads it, so this is complete once the call's orders are evaluated.
   */
  readonly leftOut: readonly SkippedResource[];
  /** What intake left out of one draft order (the object as passed in the draft orders). */
  leftOutOf(order: unknown): readonly SkippedResource[];
}

export interface OrderEvaluationResult {
  /** null when the order is not one the policy governs (criteria.md section 1): no card. */
  evaluation: PolicyEvaluation | null;
  skipped: SkippedResource[];
  /** Set when the evaluation itself failed (evaluation is then null): the caller must not present "no card" as "not governed". */
  error?: string;
  /** Dates the CQL reports beside the evaluation, for people reading it (not part of the extension). */
  dates?: EvaluationDates;
}

export interface EvaluationDates {
  /** The date every look-back window counts back from (YYYY-MM-DD). */
  orderDate?: string;
  /** Criterion id -> date of the latest record of the kind it needs that fell before its window. */
  latestOutsideWindow?: Record<string, string>;
}

/** The patient's record: a searchset/collection Bundle, or a plain list of resources. */
export type PatientData = Bundle | Resource[] | unknown;

/** A draft order a pack may govern: FHIR's request resources for a service or a device (the pack decides which it governs). */
export type DraftOrder = ServiceRequest | DeviceRequest;

export interface EvaluateOptions {
  /** Every order of the hook's `draftOrders` (the trial-agent rule reads them; no criterion counts them). */
  draftOrders?: Resource[];
  /** The date the hook was called (UTC, YYYY-MM-DD); the order date when the order has no `authoredOn`. Default: today (UTC). */
  callDate?: string;
  /** Evaluates as of this date (YYYY-MM-DD) instead of the order's authoredOn: for re-evaluation and tests. */
  orderDate?: string;
  /** The id of the pack to evaluate against; may be left out when one pack is loaded. */
  policy?: string;
  /** CQL parameter values for this call, over the pack's deployment settings (for tests and re-evaluation). */
  parameters?: Record<string, unknown>;
}

/** The evaluator: packs (ELM, value sets) and the FHIR model are loaded once when it is created. */
export interface PolicyEngine {
  /** The packs it evaluates (stand-ins for tests may leave this out). */
  readonly packs?: readonly PolicyPack[];
  /**
   * Reads and indexes a call's draft orders and the patient's record once (the draft orders alone when the record
   * is not needed yet, e.g. for `orderPhase`; the draft orders of such a prepared record are reused, not read again).
   * Never throws for bad data: what it cannot read it leaves out and lists.
   */
  prepareRecord(patientData: PatientData, draftOrders: readonly unknown[] | PreparedRecord): PreparedRecord;
  /**
   * Evaluates one draft order against a prepared record (which must hold it among its draft orders), or against
   * raw patient data (prepared for this order alone, with `options.draftOrders`).
   * Never throws for bad patient data or a malformed order: it skips what it cannot use and says so.
   */
  evaluateOrder(record: PreparedRecord | PatientData, order: DraftOrder, options?: EvaluateOptions): Promise<OrderEvaluationResult>;
  /**
   * The phase criteria.md section 1 gives the order, from the order and the draft orders alone (no record), or null
   * when the policy does not govern it: lets a caller skip fetching the record for orders that get no card.
   */
  orderPhase(order: DraftOrder, options?: Pick<EvaluateOptions, 'draftOrders' | 'policy' | 'parameters'> & { record?: PreparedRecord }): Promise<Phase | null>;
}
