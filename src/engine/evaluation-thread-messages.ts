/** The messages between the evaluation pool (./evaluation-threads.ts) and each of its threads (./evaluation-thread.ts). */
import type { CallEvaluation, CallEvaluator } from './call-evaluator';

/** Where a thread loads its engine from: the serialisable part of `EngineLocations`. */
export interface ThreadStart {
  locations: { roots?: string[]; elmDir?: string; valueSetDir?: string };
}

export type ThreadRequest =
  | { id: number; method: 'screen'; call: Parameters<CallEvaluator['screen']>[0] }
  | { id: number; method: 'evaluate'; call: Parameters<CallEvaluator['evaluate']>[0] };

export type ThreadReply =
  | { kind: 'ready' }
  | { kind: 'failed'; message: string }
  | { kind: 'done'; id: number; value: CallEvaluation }
  | { kind: 'error'; id: number; message: string };
