/**
 * Every setting the service reads from the environment, in one place. README.md's configuration
 * table lists the same variables; keep them in step.
 */
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
  /** criteria.md section 1: whether a trial order needs an intrathecal agent in the draft orders. */
  requireTrialAgent: boolean;
  logLevel: string;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int(env, 'PORT', 3000),
    sandboxFhirPort: int(env, 'SANDBOX_FHIR_PORT', 8080),
    publicBaseUrl: env.PUBLIC_BASE_URL ? env.PUBLIC_BASE_URL.replace(/\/+$/, '') : undefined,
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 1024 * 1024),
    fhirTimeoutMs: int(env, 'FHIR_TIMEOUT_MS', 5000),
    fhirMaxPages: int(env, 'FHIR_MAX_PAGES', 10),
    fhirMaxResponseBytes: int(env, 'FHIR_MAX_RESPONSE_BYTES', 10 * 1024 * 1024),
    hookDeadlineMs: int(env, 'HOOK_DEADLINE_MS', 4500),
    requireTrialAgent: bool(env, 'REQUIRE_TRIAL_AGENT', true),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
