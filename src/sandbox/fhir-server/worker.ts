/**
 * Entry point of the thread that runs the embedded FHIR server under `npm start` (see thread.ts). Messages in:
 * `close`, `set-indexed-search`. Messages out: `listening` with the base URL or `failed` with a reason, `closed`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { IndexedRepository } from './indexed-repository';
import { startFhirServer } from './server';
import type { FromFhirThread, ToFhirThread, FhirThreadData } from './thread-messages';

const port = parentPort!;
const { port: listenPort, host } = workerData as FhirThreadData;
const repository = new IndexedRepository();

const send = (message: FromFhirThread) => port.postMessage(message);

startFhirServer({ port: listenPort, host, repository }).then(
  (server) => {
    port.on('message', (message: ToFhirThread) => {
      if (message.type === 'set-indexed-search') {
        repository.useIndex = message.enabled;
        send({ type: 'indexed-search-set', enabled: message.enabled });
      } else if (message.type === 'close') {
        // Once the server and the port are closed nothing keeps the thread alive: it ends by itself.
        void server.close().finally(() => {
          send({ type: 'closed' });
          port.close();
        });
      }
    });
    send({ type: 'listening', baseUrl: server.baseUrl });
  },
  (err: Error) => {
    send({ type: 'failed', message: err.message });
    port.close();
  },
);
