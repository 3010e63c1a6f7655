/**
 * The seam between a hook call and the policy layer: everything a call asks of the engine, in at most two
 * messages of plain data (so that the work can run in another thread: ./evaluation-threads.ts).
 *
 * - `screen`: from the draft orders alone, which of them the policy governs (their phase). Used only when the
 *   patient's record must be fetched first, so that no record is fetched for orders that get no card.
 * - `evaluate`: the draft orders and the record, read (intake) and indexed once for all the call's orders; each
 *   order's phase decided once (taken from an earlier `screen` when there was one) and each governed order
 *   evaluated once.
 *
 * Orders are named by their index in the call's draft orders, since objects do not keep their identity across
 * threads.
 */
import type { Resource } from 'fhir/r4';
import type { OrderEvaluationResult, Phase, PolicyEngine, PreparedRecord, DraftOrder, SkippedResource } from './types';

export interface CallOrders {
  /** The pack the hook's service is bound to. */
  policy: string;
  /** Every resource of the hook's draftOrders, as sent. */
  drafts: readonly unknown[];
  /** Indices into `drafts` of the orders to answer for. */
  orders: readonly number[];
  /** Medications the draft orders name by reference (the phase may depend on the drug). */
  draftMedications: readonly Resource[];
}

/** What the draft orders alone say of one order. */
export interface OrderScreening {
  /** null: the policy does not govern the order (or its phase could not be decided from what could be read). */
  phase: Phase | null;
  /** Elements of an ungoverned order that intake could not read: the order may be one the policy governs. */
  unreadable: readonly string[];
}

/** What the call learnt of one order. */
export interface OrderOutcome {
  screening: OrderScreening;
  /** Present for a governed order once it was evaluated. */
  result?: OrderEvaluationResult;
  /** Time its evaluation took, for the metrics. */
  ms?: number;
}

export interface CallEvaluation {
  /** Per order of `CallOrders.orders`, in its order. */
  orders: OrderOutcome[];
  /** Everything intake left out of the draft orders and the record (for the log line). */
  leftOut: readonly SkippedResource[];
}

export interface CallEvaluator {
  /** The orders' screenings, without results; `leftOut` covers the draft orders only. */
  screen(call: CallOrders, signal?: AbortSignal): Promise<CallEvaluation>;
  evaluate(
    call: CallOrders & {
      /** The patient's record (with the draft orders' Medications). */
      record: readonly unknown[];
      /** UTC date of the call (YYYY-MM-DD). */
      callDate: string;
      /** The result of an earlier `screen` of the same orders: their phases are not decided again. */
      screened?: readonly OrderScreening[];
    },
    signal?: AbortSignal,
  ): Promise<CallEvaluation>;
  /** Stops the threads behind it, if any. */
  close(): Promise<void>;
}

/**
 * The evaluation stopped for a reason outside the call's data and code: its thread died (out of its heap limit,
 * say). The caller answers each governed order with a failed check; any other error is a fault of ours (a 500).
 */
export class EvaluationStopped extends Error {
  override readonly name = 'EvaluationStopped';
}

/** Lets pending I/O run (new requests get their fast refusals) between orders when evaluating on the event loop. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The paths of what intake could not read in one draft order (empty when it was read whole). */
function unreadablePaths(drafts: PreparedRecord, order: unknown): string[] {
  return [...new Set(drafts.leftOutOf(order).map((l) => l.path ?? 'the whole order'))];
}

/** The evaluator over an engine in this thread (tests, the evaluation threads themselves, and `EVALUATION_THREADS=0`). */
export function inProcessEvaluator(engine: PolicyEngine): CallEvaluator {
  return {
    async screen(call) {
      const drafts = engine.prepareRecord(call.draftMedications, call.drafts);
      const orders = await Promise.all(
        call.orders.map(async (index): Promise<OrderOutcome> => {
          const order = call.drafts[index] as DraftOrder;
          const phase = await engine.orderPhase(order, { record: drafts, policy: call.policy });
          return { screening: { phase, unreadable: phase === null ? unreadablePaths(drafts, order) : [] } };
        }),
      );
      return { orders, leftOut: drafts.leftOut };
    },
    async evaluate(call, signal) {
      const drafts = engine.prepareRecord(call.draftMedications, call.drafts);
      if (call.screened?.every((s) => s.phase === null)) {
        return { orders: call.screened.map((screening) => ({ screening })), leftOut: drafts.leftOut };
      }
      // Read and indexed once for every order of the call.
      const record = engine.prepareRecord(call.record, drafts);
      const orders: CallEvaluation['orders'] = [];
      for (const [i, index] of call.orders.entries()) {
        const order = call.drafts[index] as DraftOrder;
        const screened = call.screened?.[i];
        if (screened?.phase === null) {
          orders.push({ screening: screened });
          continue;
        }
        await yieldToEventLoop();
        signal?.throwIfAborted();
        // Without an earlier screen, the order's phase is decided once, inside its evaluation (null: not governed).
        const started = performance.now();
        const result = await engine.evaluateOrder(record, order, { draftOrders: call.drafts as Resource[], callDate: call.callDate, policy: call.policy });
        const ms = performance.now() - started;
        if (result.evaluation === null && result.error === undefined) {
          orders.push({ screening: screened ?? { phase: null, unreadable: unreadablePaths(drafts, order) } });
          continue;
        }
        orders.push({ screening: screened ?? { phase: result.evaluation?.phase ?? null, unreadable: [] }, result, ms });
      }
      return { orders, leftOut: record.leftOut };
    },
    async close() {},
  };
}
