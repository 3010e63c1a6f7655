/** What the `npm start` process and the FHIR server's thread say to each other (thread.ts, worker.ts). */
export interface FhirThreadData {
  port?: number;
  host?: string;
}

export type ToFhirThread = { type: 'close' } | { type: 'set-indexed-search'; enabled: boolean };

export type FromFhirThread =
  | { type: 'listening'; baseUrl: string }
  | { type: 'failed'; message: string }
  | { type: 'closed' }
  | { type: 'indexed-search-set'; enabled: boolean };
