/**
 * The service's settings from the environment (client trust, the fhirServer allowlist and the rate limit
 * are in src/security/config.ts). README.md's configuration table lists every variable; keep them in step.
 */
import { envBool as bool, envInt as int } from './env-values';
import { loadPayerConfig, type PayerConfig } from './crd/payers';

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
  /** Da Vinci CRD: the payer served (CRD_PAYERS) and whether a call without its Coverage is refused (CRD_REQUIRE_COVERAGE). */
  crd: { payer: PayerConfig; requireCoverage: boolean };
  /** Bearer token a Prometheus scraper must send to GET /metrics; open when unset. */
  metricsToken?: string;
}

/** What differs between `npm run serve` (production) and `npm start` (sandbox) when a variable is unset. */
export interface ConfigDefaults {
  requireCoverage: boolean;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: ConfigDefaults = { requireCoverage: true }): Config {
  return {
    port: int(env, 'PORT', 3000),
    sandboxFhirPort: int(env, 'SANDBOX_FHIR_PORT', 8080),
    publicBaseUrl: env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, '') : undefined,
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024),
    fhirTimeoutMs: int(env, 'FHIR_TIMEOUT_MS', 5000),
    fhirMaxPages: int(env, 'FHIR_MAX_PAGES', 10),
    fhirMaxResponseBytes: int(env, 'FHIR_MAX_RESPONSE_BYTES', 10 * 1024 * 1024),
    hookDeadlineMs: int(env, 'HOOK_DEADLINE_MS', 4500),
    logLevel: env.LOG_LEVEL ?? 'info',
    crd: { payer: loadPayerConfig(env), requireCoverage: bool(env, 'CRD_REQUIRE_COVERAGE', defaults.requireCoverage) },
    metricsToken: env.METRICS_TOKEN || undefined,
  };
}
