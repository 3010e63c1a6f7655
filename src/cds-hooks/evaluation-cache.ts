/**
 * Reuse of evaluations between calls. An order-select and the order-sign that follows it usually
 * carry the same order and the same record; evaluating both costs twice the CPU for one answer.
 * The cache keys each order's outcome by a SHA-256 digest of everything the evaluator is given
 * (which evaluator, the pack, the draft orders, the record, the call date, and the order), so any
 * difference in the inputs is a miss. The call's part of the digest is taken once per call, the
 * order's beside it. Bounded in entries and age (lru-cache), in memory only: each worker keeps its
 * own, and nothing in it needs to be shared.
 *
 * Only complete outcomes are kept; a failed evaluation is tried afresh on the next call.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { OrderOutcome } from '../engine/call-evaluator';

export interface EvaluationCacheOptions {
  /** 0 turns the cache off. */
  maxEntries: number;
  ttlSeconds: number;
}

/** Everything of a call that an order's outcome depends on, besides the order. */
export interface CallInputs {
  policy: string;
  drafts: readonly unknown[];
  record: readonly unknown[];
  callDate: string;
}

/** One call's view of the cache. */
export interface CallEntries {
  get(order: unknown): OrderOutcome | undefined;
  set(order: unknown, outcome: OrderOutcome): void;
}

export interface EvaluationCache {
  /** `evaluator`: the object that computes the outcomes (two evaluators never share entries). */
  forCall(evaluator: object, inputs: CallInputs): CallEntries;
  readonly size: number;
}

/** A number per evaluator instance, so two evaluators (other packs loaded, a reload) never share entries. */
const evaluatorIds = new WeakMap<object, number>();
let nextEvaluatorId = 1;
function evaluatorId(evaluator: object): number {
  let id = evaluatorIds.get(evaluator);
  if (id === undefined) {
    id = nextEvaluatorId++;
    evaluatorIds.set(evaluator, id);
  }
  return id;
}

/** Length-prefixed parts: no two different inputs can concatenate to the same text. */
function digest(parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:`).update(part);
  return hash.digest('base64url');
}

const NO_ENTRIES: CallEntries = { get: () => undefined, set: () => {} };

export function createEvaluationCache(options: EvaluationCacheOptions): EvaluationCache {
  if (options.maxEntries <= 0) return { forCall: () => NO_ENTRIES, size: 0 };
  const entries = new LRUCache<string, OrderOutcome>({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  return {
    forCall(evaluator, inputs) {
      const call = digest([String(evaluatorId(evaluator)), inputs.policy, inputs.callDate, JSON.stringify(inputs.drafts), JSON.stringify(inputs.record)]);
      const keyOf = (order: unknown) => digest([call, JSON.stringify(order) ?? '']);
      return {
        get: (order) => entries.get(keyOf(order)),
        set: (order, outcome) => {
          if (outcome.result?.error === undefined) entries.set(keyOf(order), outcome);
        },
      };
    },
    get size() {
      return entries.size;
    },
  };
}
