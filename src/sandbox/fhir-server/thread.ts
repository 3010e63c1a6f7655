/**
 * Runs the embedded FHIR server in its own worker thread, so that a slow search or a large transaction never
 * holds up the CDS service's event loop in the same process (`npm start`), and its data lives in the thread's
 * own heap. The thread runs worker.ts from source: the sandbox is a development tool run by tsx, whose
 * CommonJS hook the thread loads first (a worker does not inherit tsx's loaders).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FhirServerOptions, RunningFhirServer } from './server';
import type { FhirThreadData, FromFhirThread, ToFhirThread } from './thread-messages';

export interface FhirServerThread extends RunningFhirServer {
  /** Switches the patient index on or off (off: every search scans; the benchmark's baseline). */
  setIndexedSearch(enabled: boolean): Promise<void>;
}

export interface FhirThreadOptions extends Pick<FhirServerOptions, 'port' | 'host'> {
  /** Heap limit of the thread in MB; Node's default fits a few hundred Synthea patients, not 600. */
  maxHeapMb?: number;
}

/** How long close() waits for the thread to finish by itself before ending it. */
const CLOSE_WAIT_MS = 5_000;

export function startFhirServerThread(options: FhirThreadOptions = {}): Promise<FhirServerThread> {
  const data: FhirThreadData = { port: options.port, host: options.host };
  const entry = path.join(__dirname, `worker${path.extname(__filename)}`);
  const worker = entry.endsWith('.ts')
    ? new Worker(`require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(entry)});`, {
        eval: true,
        workerData: data,
        resourceLimits: limits(options),
      })
    : new Worker(entry, { workerData: data, resourceLimits: limits(options) });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const send = (message: ToFhirThread) => worker.postMessage(message);

  return new Promise<FhirServerThread>((resolve, reject) => {
    const onError = (err: Error) => fail(`the FHIR server thread failed: ${err.message}`);
    const onExit = (code: number) => fail(`the FHIR server thread ended (code ${code}) before it listened`);
    const fail = (reason: string) => {
      void worker.terminate();
      reject(new Error(reason));
    };
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.on('message', function onStart(message: FromFhirThread) {
      if (message.type === 'failed') return fail(message.message);
      if (message.type !== 'listening') return;
      worker.off('message', onStart).off('error', onError).off('exit', onExit);
      // Past startup the thread only fails on a bug; say so rather than take the CDS service down with it.
      worker.on('error', (err) => console.error(`embedded FHIR server thread failed: ${err.message}`));
      resolve({
        baseUrl: message.baseUrl,
        close: async () => {
          // Done once the server has stopped listening; tearing the thread down takes another 50 ms, which the
          // caller need not wait for (a second Ctrl-C that npm relays would otherwise land in it).
          const closed = new Promise<void>((done) => {
            worker.on('message', (reply: FromFhirThread) => reply.type === 'closed' && done());
          });
          send({ type: 'close' });
          const timer = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
          await Promise.race([closed, exited]);
          clearTimeout(timer);
          worker.unref();
        },
        setIndexedSearch: (enabled) =>
          new Promise<void>((done) => {
            worker.on('message', function onSet(reply: FromFhirThread) {
              if (reply.type !== 'indexed-search-set' || reply.enabled !== enabled) return;
              worker.off('message', onSet);
              done();
            });
            send({ type: 'set-indexed-search', enabled });
          }),
      });
    });
  });
}

function limits(options: FhirThreadOptions): { maxOldGenerationSizeMb?: number } {
  return options.maxHeapMb ? { maxOldGenerationSizeMb: options.maxHeapMb } : {};
}
