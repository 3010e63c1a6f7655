/**
 * Entry of one evaluation thread (./evaluation-threads.ts starts them): loads its own policy engine (ELM, value
 * sets, FHIR model: nothing of it can be shared between threads) and answers one `CallEvaluator` message at a
 * time. Its answers are plain data; it never sees a request, a token or the network.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { inProcessEvaluator, type CallEvaluator } from './call-evaluator';
import { loadPolicyEngine } from './engine';
import type { ThreadReply, ThreadRequest, ThreadStart } from './evaluation-thread-messages';

/**
 * Evaluation yields the CPU to the event loop: on Linux a thread has its own nice value, and with as many threads as
 * cores the event loop would otherwise wait for a time slice before it can refuse a call (503 within milliseconds).
 */
const EVALUATION_NICENESS = 10;

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('evaluation-thread.ts runs as a worker thread only');
  try {
    setPriority(EVALUATION_NICENESS);
  } catch {
    // Not permitted or not per thread on this platform: evaluation then competes with the event loop as an equal.
  }
  const start = workerData as ThreadStart;
  let evaluator: CallEvaluator;
  try {
    evaluator = inProcessEvaluator(await loadPolicyEngine(start.locations));
  } catch (error) {
    port.postMessage({ kind: 'failed', message: (error as Error).message } satisfies ThreadReply);
    return;
  }
  port.on('message', async (request: ThreadRequest) => {
    try {
      const value = request.method === 'screen' ? await evaluator.screen(request.call) : await evaluator.evaluate(request.call);
      port.postMessage({ kind: 'done', id: request.id, value } satisfies ThreadReply);
    } catch (error) {
      port.postMessage({ kind: 'error', id: request.id, message: (error as Error).message ?? String(error) } satisfies ThreadReply);
    }
  });
  port.postMessage({ kind: 'ready' } satisfies ThreadReply);
}

void main();
