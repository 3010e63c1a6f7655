/**
 * Reuse of evaluations between calls. An order-select and the order-sign that follows it usually
 * carry the same order and the same record; evaluating both costs twice the CPU for one answer.
 * The cache keys each evaluation by a SHA-256 digest of everything the engine is given (which
 * engine, the order, the record, and every evaluation option: draft orders, call date, settings),
 * so any difference in the inputs is a miss. Bounded in entries and age (lru-cache), in memory
 * only: each worker keeps its own, and nothing in it needs to be shared.
 *
 * Only complete evaluations are kept; a failed evaluation is tried afresh on the next call.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { EvaluateOptions, OrderEvaluationResult, PatientData, PolicyEngine, PreparedRecord, PumpOrder } from '../engine/types';

export interface EvaluationCacheOptions {
  /** 0 turns the cache off. */
  maxEntries: number;
  ttlSeconds: number;
}

export interface EvaluationCache {
  /** On a miss, evaluates against `prepared()` when given (the call's record read once for all its orders), else `record`. */
  evaluate(engine: PolicyEngine, record: PatientData, order: PumpOrder, options: EvaluateOptions, prepared?: () => PreparedRecord): Promise<OrderEvaluationResult>;
  readonly size: number;
}

/** A number per engine instance, so two engines (two packs, or a reloaded pack) never share entries. */
const engineIds = new WeakMap<PolicyEngine, number>();
let nextEngineId = 1;
function engineId(engine: PolicyEngine): number {
  let id = engineIds.get(engine);
  if (id === undefined) {
    id = nextEngineId++;
    engineIds.set(engine, id);
  }
  return id;
}

export function evaluationDigest(engine: PolicyEngine, record: PatientData, order: PumpOrder, options: EvaluateOptions): string {
  const hash = createHash('sha256');
  // Length-prefixed parts: no two different inputs can concatenate to the same text.
  for (const part of [String(engineId(engine)), JSON.stringify(order), JSON.stringify(options), JSON.stringify(record) ?? '']) {
    hash.update(`${part.length}:`).update(part);
  }
  return hash.digest('base64url');
}

export function createEvaluationCache(options: EvaluationCacheOptions): EvaluationCache {
  if (options.maxEntries <= 0) {
    return { evaluate: (engine, record, order, evaluateOptions) => engine.evaluateOrder(record, order, evaluateOptions), size: 0 };
  }
  const entries = new LRUCache<string, OrderEvaluationResult>({ max: options.maxEntries, ttl: options.ttlSeconds * 1000 });
  return {
    async evaluate(engine, record, order, evaluateOptions, prepared) {
      const key = evaluationDigest(engine, record, order, evaluateOptions);
      const cached = entries.get(key);
      if (cached) return cached;
      const result = await engine.evaluateOrder(prepared ? prepared() : record, order, evaluateOptions);
      if (result.error === undefined) entries.set(key, result);
      return result;
    },
    get size() {
      return entries.size;
    },
  };
}
