/**
 * The service's settings from the environment (client trust, the fhirServer allowlist and the rate limit
 * are in src/security/config.ts). README.md's configuration table lists every variable; keep them in step.
 */
import { envBool as bool, envInt as int } from './env-values';
import { availableParallelism } from 'node:os';
import { loadPayerConfig, type PayerConfig } from './crd/payers';
import { workerCount } from './server/workers';

export interface Config {
  /** Port of the CDS service. */
  port: number;
  /** Port of the embedded FHIR server that `npm start` runs. */
  sandboxFhirPort: number;
  /** Public base URL of the CDS service as callers see it (links, JWT `aud`); derived from the request when unset. */
  publicBaseUrl?: string;
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Timeout of each request to a FHIR server, in ms. */
  fhirTimeoutMs: number;
  /** Most `Bundle.link` next pages followed per prefetch query. */
  fhirMaxPages: number;
  /** Largest accepted FHIR response body, in bytes. */
  fhirMaxResponseBytes: number;
  /** Deadline of a whole hook call, in ms. */
  hookDeadlineMs: number;
  logLevel: string;
  /** Socket and HTTP limits against slow or greedy clients (src/server/http-server.ts). */
  http: HttpLimits;
  /** Admission control of hook calls (src/ops/admission.ts). */
  admission: AdmissionLimits;
  /**
   * Evaluation threads per worker process (src/engine/evaluation-threads.ts): by default the cores shared out among
   * the workers; 0 evaluates on the event loop. `maxHeapMb` bounds each thread's heap.
   */
  evaluation: { threads: number; maxHeapMb: number };
  /** V8's heap growth past the live data, in percent (src/server/heap-growth.ts); 0 leaves V8's own choice. */
  heapGrowingPercent: number;
  /** Evaluation cache (src/cds-hooks/evaluation-cache.ts); 0 entries turns it off. */
  evaluationCache: { maxEntries: number; ttlSeconds: number };
  /** Da Vinci CRD: the payer served (CRD_PAYERS) and whether a call without its Coverage is refused (CRD_REQUIRE_COVERAGE). */
  crd: { payer: PayerConfig; requireCoverage: boolean };
  /** Bearer token a Prometheus scraper must send to GET /metrics; open when unset. */
  metricsToken?: string;
}

export interface HttpLimits {
  /** Time a client has to send the request headers, from connection or the previous request. */
  headersTimeoutMs: number;
  /** Time a client has to send the whole request (headers and body). */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Requests served on one connection before it is closed (0: no limit). */
  maxRequestsPerSocket: number;
  /** Connections one client address may hold open at once (per worker). */
  maxConnectionsPerAddress: number;
  /** Calls a client address may start per minute, counted before authentication (0: off). */
  addressRateLimitPerMinute: number;
  addressRateLimitBurst: number;
}

export interface AdmissionLimits {
  /** Hook calls evaluated at once per worker; more wait in a short queue or get 503. */
  maxInFlight: number;
  /** Longest a call may wait for a slot; calls that could not start within it are refused on arrival. */
  maxQueueMs: number;
}

/** What differs between `npm run serve` (production) and `npm start` (sandbox) when a variable is unset. */
export interface ConfigDefaults {
  requireCoverage: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: ConfigDefaults = { requireCoverage: true }): Config {
  const threads = int(env, 'EVALUATION_THREADS', Math.max(1, Math.floor(availableParallelism() / workerCount(env))));
  return {
    port: int(env, 'PORT', 3000),
    sandboxFhirPort: int(env, 'SANDBOX_FHIR_PORT', 8080),
    publicBaseUrl: env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, '') : undefined,
    // 8 MiB: twice the largest Synthea patient bundle measured (3.7 MiB, 1,111 resources; fixtures/synthea/README.md).
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 8 * 1024 * 1024),
    fhirTimeoutMs: int(env, 'FHIR_TIMEOUT_MS', 5000),
    fhirMaxPages: int(env, 'FHIR_MAX_PAGES', 10),
    fhirMaxResponseBytes: int(env, 'FHIR_MAX_RESPONSE_BYTES', 10 * 1024 * 1024),
    hookDeadlineMs: int(env, 'HOOK_DEADLINE_MS', 4500),
    logLevel: env.LOG_LEVEL ?? 'info',
    http: {
      headersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000),
      requestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 15_000),
      keepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000),
      maxRequestsPerSocket: int(env, 'HTTP_MAX_REQUESTS_PER_SOCKET', 1_000),
      maxConnectionsPerAddress: int(env, 'HTTP_MAX_CONNECTIONS_PER_ADDRESS', 64),
      addressRateLimitPerMinute: int(env, 'ADDRESS_RATE_LIMIT_PER_MINUTE', 1_200),
      addressRateLimitBurst: Math.max(1, int(env, 'ADDRESS_RATE_LIMIT_BURST', 120)),
    },
    evaluation: { threads, maxHeapMb: Math.max(64, int(env, 'EVALUATION_THREAD_HEAP_MB', 512)) },
    heapGrowingPercent: int(env, 'HEAP_GROWING_PERCENT', 50),
    admission: {
      // Two calls per thread: one evaluating while the other reads its record or writes its answer on the event loop.
      maxInFlight: Math.max(1, int(env, 'HOOK_MAX_IN_FLIGHT', 2 * Math.max(1, threads))),
      maxQueueMs: int(env, 'HOOK_MAX_QUEUE_MS', 1_000),
    },
    evaluationCache: {
      maxEntries: int(env, 'EVAL_CACHE_MAX_ENTRIES', 1_000),
      ttlSeconds: Math.max(1, int(env, 'EVAL_CACHE_TTL_SECONDS', 300)),
    },
    crd: { payer: loadPayerConfig(env), requireCoverage: bool(env, 'CRD_REQUIRE_COVERAGE', defaults.requireCoverage) },
    metricsToken: env.METRICS_TOKEN || undefined,
  };
}
