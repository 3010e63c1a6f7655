/**
 * Evaluation off the event loop: a pool of worker threads, each with its own policy engine, behind the
 * `CallEvaluator` seam. Evaluating a policy is CPU work that takes milliseconds to seconds; on the event loop it
 * holds up everything else, including the cheap refusals (503, 429, 413) that must be answered within
 * milliseconds under overload. In threads, the event loop only moves requests and answers, and one process uses
 * every core (with PGlite, which one process only may open, this is how the embedded default uses them all).
 *
 * One message per thread at a time; waiting calls queue here in arrival order (admission control, in front of
 * this, keeps the queue short). A call whose deadline passes is dropped from the queue, or, when it is already
 * running, its thread is stopped and replaced: a record that takes too long cannot hold a core past its call.
 * A thread that dies (out of its heap limit, say) fails the call it was running and is replaced.
 */
import { Worker } from 'node:worker_threads';
import { workerThreadEntry } from '../worker-thread-entry';
import { EvaluationStopped, type CallEvaluation, type CallEvaluator } from './call-evaluator';
import type { ThreadReply, ThreadRequest, ThreadStart } from './evaluation-thread-messages';

export interface EvaluationThreadOptions {
  threads: number;
  /** Heap limit of each thread in MB: a pathological record fails its own call, not the process. */
  maxHeapMb: number;
  locations?: ThreadStart['locations'];
  /** Told when a thread is replaced (never with call data). */
  onReplaced?: (reason: string) => void;
}

interface Task {
  request: Omit<ThreadRequest, 'id'>;
  resolve: (value: CallEvaluation) => void;
  reject: (error: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  running?: { id: number; task: Task };
}

const threadEntry = workerThreadEntry(__filename, 'evaluation-thread');

/**
 * Each thread's young generation, in MB. Under a high allocation rate V8 lets it grow to about 48 MB per isolate
 * and seldom gives the memory back; 16 MB keeps each thread's share of the RSS small for a little more scavenging.
 */
const YOUNG_GENERATION_MB = 16;

export class EvaluationThreads implements CallEvaluator {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly options: EvaluationThreadOptions) {}

  /** Starts the threads and waits until each has loaded its engine (a pack that fails to load fails startup). */
  static async start(options: EvaluationThreadOptions): Promise<EvaluationThreads> {
    if (!(options.threads >= 1)) throw new Error('EvaluationThreads needs at least one thread');
    const pool = new EvaluationThreads(options);
    try {
      await Promise.all(Array.from({ length: options.threads }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  screen(call: Parameters<CallEvaluator['screen']>[0], signal?: AbortSignal): Promise<CallEvaluation> {
    return this.submit({ method: 'screen', call }, signal);
  }

  evaluate(call: Parameters<CallEvaluator['evaluate']>[0], signal?: AbortSignal): Promise<CallEvaluation> {
    return this.submit({ method: 'evaluate', call }, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) this.settle(task, { error: new Error('the evaluation threads were stopped') });
    await Promise.all(
      this.slots.splice(0).map((slot) => {
        if (slot.running) this.settle(slot.running.task, { error: new Error('the evaluation threads were stopped') });
        return slot.worker.terminate();
      }),
    );
  }

  private submit(request: Task['request'], signal?: AbortSignal): Promise<CallEvaluation> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error('the evaluation threads were stopped'));
      if (signal?.aborted) return reject(signal.reason as Error);
      const task: Task = { request, resolve, reject, signal };
      if (signal) {
        task.onAbort = () => this.abandon(task);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Resolves or rejects a task once, and forgets its abort listener. */
  private settle(task: Task, outcome: { error: Error } | { value: CallEvaluation }): void {
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
    if ('error' in outcome) task.reject(outcome.error);
    else task.resolve(outcome.value);
  }

  private abandon(task: Task): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(task, { error: task.signal?.reason as Error });
      return;
    }
    const slot = this.slots.find((s) => s.running?.task === task);
    if (!slot) return;
    slot.running = undefined;
    this.settle(task, { error: task.signal?.reason as Error });
    this.replace(slot, 'a call ran past its deadline');
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.running) continue;
      const task = this.queue.shift() as Task;
      const id = this.nextId++;
      slot.running = { id, task };
      slot.worker.postMessage({ ...task.request, id } as ThreadRequest);
    }
  }

  /** Starts one thread; resolves when its engine is loaded. */
  private spawn(): Promise<void> {
    const worker = new Worker(threadEntry.code, {
      eval: threadEntry.eval,
      execArgv: [],
      workerData: { locations: this.options.locations ?? {} } satisfies ThreadStart,
      resourceLimits: { maxOldGenerationSizeMb: this.options.maxHeapMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    return new Promise((resolve, reject) => {
      worker.on('message', (reply: ThreadReply) => {
        if (reply.kind === 'ready') {
          slot.ready = true;
          resolve();
          this.dispatch();
          return;
        }
        if (reply.kind === 'failed') {
          const index = this.slots.indexOf(slot);
          if (index >= 0) this.slots.splice(index, 1);
          void worker.terminate();
          reject(new Error(`an evaluation thread could not load the policy engine: ${reply.message}`));
          return;
        }
        const running = slot.running;
        if (!running || running.id !== reply.id) return;
        slot.running = undefined;
        this.settle(running.task, reply.kind === 'done' ? { value: reply.value } : { error: new Error(reply.message) });
        this.dispatch();
      });
      worker.on('error', (error) => {
        if (!slot.ready) reject(error);
      });
      worker.on('exit', (code) => {
        const index = this.slots.indexOf(slot);
        if (index < 0) return; // replaced or closed on purpose
        this.slots.splice(index, 1);
        if (!slot.ready) return reject(new Error(`an evaluation thread stopped while loading (exit ${code})`));
        if (slot.running) this.settle(slot.running.task, { error: new EvaluationStopped('the evaluation thread stopped during the evaluation') });
        if (!this.closed) this.respawn(`an evaluation thread stopped (exit ${code})`);
      });
    });
  }

  /** Stops a thread on purpose and starts another in its place. */
  private replace(slot: Slot, reason: string): void {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
    this.respawn(reason);
  }

  private respawn(reason: string): void {
    this.options.onReplaced?.(reason);
    if (this.closed) return;
    this.spawn().catch((error: Error) => this.options.onReplaced?.(`a replacement thread failed to start: ${error.message}`));
  }
}
