/** Starts the embedded FHIR server on a port (0 = any free one) and hands back its base URL and a stop function. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createFhirApp } from './app';
import type { IndexedRepository } from './indexed-repository';

export interface FhirServerOptions {
  /** 0 or absent: a free port chosen by the OS. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1 (the sandbox has no authentication). */
  host?: string;
  logger?: Logger;
  /** The store to serve; a new empty one by default. */
  repository?: IndexedRepository;
}

export interface RunningFhirServer {
  /** e.g. http://127.0.0.1:8080/fhir */
  baseUrl: string;
  close(): Promise<void>;
}

export async function startFhirServer(options: FhirServerOptions = {}): Promise<RunningFhirServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(createFhirApp({ logger: options.logger, repository: options.repository }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://${urlHost(host)}:${port}/fhir`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets would otherwise hold close() open for seconds.
        server.closeAllConnections();
      }),
  };
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
