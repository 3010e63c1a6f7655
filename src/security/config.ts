/**
 * Settings of client trust (CDS Hooks "Trusting CDS Clients"), the fhirServer allowlist and the rate
 * limit, read from the environment once at startup. docs/security.md lists the same variables; keep
 * them in step. Everything that can be wrong (bad JSON, unreadable JWKS file, a symmetric algorithm)
 * fails here, at startup, with a message that names the variable.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { envBool as bool, envInt as int } from '../env-values';
import { normaliseFhirBaseUrl } from './fhir-server-allowlist';

/** Asymmetric JWS algorithms a deployment may accept. `none` and HMAC are not representable on purpose. */
export const SUPPORTED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512'] as const;
export type JwtAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

export interface TrustedIssuer {
  /** Exact `iss` value the client puts in its JWTs. */
  iss: string;
  /** Where the client publishes its JWK Set (fetched by jose, cached). Exactly one of jwksUrl / jwks. */
  jwksUrl?: string;
  /** The client's JWK Set, read from `jwksFile` at startup. */
  jwks?: JSONWebKeySet;
  /** The `jku` header values this client may send; we never fetch them, we only refuse the others. */
  allowedJku: string[];
  /** Normalised FHIR base URLs this client may name as `fhirServer`. Empty: none (prefetch only). */
  fhirServers: string[];
}

export interface SecurityConfig {
  /** Whether calls must carry a CDS Client JWT. */
  trustClients: boolean;
  issuers: TrustedIssuer[];
  algorithms: JwtAlgorithm[];
  clockSkewSeconds: number;
  /** Longest accepted `exp - iat`. */
  maxTokenLifetimeSeconds: number;
  /** Most `jti` values remembered at once (replay protection). */
  replayCacheMaxEntries: number;
  /** Timeout of one JWKS download. */
  jwksTimeoutMs: number;
  /** FHIR base URLs a caller may name as `fhirServer` when trust is off (normalised). */
  fhirServerAllowlist: string[];
  /** Hook calls per minute per client; 0 turns the limiter off. */
  rateLimitPerMinute: number;
  /** Calls a client may make at once before the per-minute rate applies. */
  rateLimitBurst: number;
}

export interface SecurityDefaults {
  /** True for the production command, false for the embedded sandbox of `npm start`. */
  trustClients: boolean;
  /** Port of the embedded FHIR server; its loopback URLs form the default allowlist when trust is off. */
  sandboxFhirPort: number;
}

const DEFAULT_ALGORITHMS: JwtAlgorithm[] = ['ES384', 'RS384'];

export function loadSecurityConfig(env: NodeJS.ProcessEnv, defaults: SecurityDefaults): SecurityConfig {
  const trustClients = bool(env, 'CDS_TRUST_CLIENTS', defaults.trustClients);
  const issuers = trustedIssuers(env);
  if (trustClients && issuers.length === 0) {
    throw new Error('CDS_TRUSTED_ISSUERS must name at least one issuer while CDS_TRUST_CLIENTS is on');
  }
  const rateLimitPerMinute = int(env, 'CDS_RATE_LIMIT_PER_MINUTE', 600);
  return {
    trustClients,
    issuers,
    algorithms: algorithms(env),
    clockSkewSeconds: int(env, 'CDS_JWT_CLOCK_SKEW_SECONDS', 60),
    maxTokenLifetimeSeconds: positiveInt(env, 'CDS_JWT_MAX_LIFETIME_SECONDS', 3600),
    replayCacheMaxEntries: positiveInt(env, 'CDS_JWT_REPLAY_CACHE_SIZE', 100_000),
    jwksTimeoutMs: positiveInt(env, 'CDS_JWKS_TIMEOUT_MS', 2000),
    fhirServerAllowlist: fhirAllowlist(env, defaults.sandboxFhirPort),
    rateLimitPerMinute,
    rateLimitBurst: positiveInt(env, 'CDS_RATE_LIMIT_BURST', 60),
  };
}

/** One line for the startup log that says who may call and with what. */
export function describeTrustMode(config: SecurityConfig): string {
  const limit =
    config.rateLimitPerMinute === 0
      ? 'rate limit off'
      : `rate limit ${config.rateLimitPerMinute}/min (burst ${config.rateLimitBurst}) per ${config.trustClients ? 'issuer' : 'client IP'}`;
  if (!config.trustClients) {
    return `client trust OFF: calls are not authenticated (sandbox only); fhirServer allowlist: ${config.fhirServerAllowlist.join(', ') || 'none'}; ${limit}`;
  }
  const issuers = config.issuers
    .map((i) => `${i.iss} (keys from ${i.jwksUrl ?? 'file'}; ${i.fhirServers.length} FHIR server(s))`)
    .join(', ');
  return (
    `client trust ON: ${config.issuers.length} issuer(s): ${issuers}; algorithms ${config.algorithms.join(',')}; ` +
    `clock skew ${config.clockSkewSeconds} s; max token lifetime ${config.maxTokenLifetimeSeconds} s; ${limit}`
  );
}

function trustedIssuers(env: NodeJS.ProcessEnv): TrustedIssuer[] {
  const raw = env.CDS_TRUSTED_ISSUERS?.trim();
  if (!raw) return [];
  // A JSON array inline, or the path of a file holding one; relative jwksFile paths are read
  // relative to that file so a config directory can be moved as a whole.
  const fromFile = !raw.startsWith('[') && !raw.startsWith('{');
  const text = fromFile ? readText(raw, 'CDS_TRUSTED_ISSUERS') : raw;
  const baseDir = fromFile ? dirname(resolve(raw)) : process.cwd();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('CDS_TRUSTED_ISSUERS is not valid JSON');
  }
  if (!Array.isArray(parsed)) throw new Error('CDS_TRUSTED_ISSUERS must be a JSON array of issuers');
  const issuers = parsed.map((entry, index) => trustedIssuer(entry, `CDS_TRUSTED_ISSUERS[${index}]`, baseDir));
  const seen = new Set<string>();
  for (const issuer of issuers) {
    if (seen.has(issuer.iss)) throw new Error(`CDS_TRUSTED_ISSUERS names the issuer ${issuer.iss} twice`);
    seen.add(issuer.iss);
  }
  return issuers;
}

function trustedIssuer(entry: unknown, where: string, baseDir: string): TrustedIssuer {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new Error(`${where} must be an object`);
  const e = entry as Record<string, unknown>;
  if (typeof e.iss !== 'string' || e.iss === '') throw new Error(`${where}.iss must be a non-empty string`);
  const hasUrl = e.jwksUrl !== undefined;
  const hasFile = e.jwksFile !== undefined;
  if (hasUrl === hasFile) throw new Error(`${where} must have exactly one of jwksUrl and jwksFile`);

  let jwksUrl: string | undefined;
  let jwks: JSONWebKeySet | undefined;
  if (hasUrl) {
    jwksUrl = jwksLocation(e.jwksUrl, `${where}.jwksUrl`);
  } else {
    if (typeof e.jwksFile !== 'string' || e.jwksFile === '') throw new Error(`${where}.jwksFile must be a path`);
    jwks = publicKeySet(readText(resolve(baseDir, e.jwksFile), `${where}.jwksFile`), `${where}.jwksFile`);
  }

  const allowedJku =
    e.allowedJku === undefined
      ? jwksUrl
        ? [jwksUrl]
        : []
      : stringArray(e.allowedJku, `${where}.allowedJku`).map((u, i) => jwksLocation(u, `${where}.allowedJku[${i}]`));
  const fhirServers = (e.fhirServers === undefined ? [] : stringArray(e.fhirServers, `${where}.fhirServers`)).map(
    (u, i) => {
      const normalised = normaliseFhirBaseUrl(u);
      if (!normalised.ok) throw new Error(`${where}.fhirServers[${i}]: ${normalised.message}`);
      return normalised.url;
    },
  );
  return { iss: e.iss, jwksUrl, jwks, allowedJku, fhirServers };
}

/** https, or http to a loopback host only (local test issuers); no credentials in the URL. */
function jwksLocation(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`${where} must be a URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${where} is not a valid URL`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new Error(`${where} must use https (http is accepted for loopback hosts only)`);
  }
  if (url.username || url.password) throw new Error(`${where} must not carry credentials`);
  return value;
}

function publicKeySet(text: string, where: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${where} must be a JWK Set with a non-empty "keys" array`);
  keys.forEach((key: unknown, i) => {
    const k = key as Record<string, unknown>;
    if (typeof k !== 'object' || k === null) throw new Error(`${where} keys[${i}] must be an object`);
    if (k.kty !== 'EC' && k.kty !== 'RSA') throw new Error(`${where} keys[${i}] must be an EC or RSA key (kty "${String(k.kty)}")`);
    // A private component means someone handed us the client's signing key: refuse rather than hold it.
    if ('d' in k) throw new Error(`${where} keys[${i}] contains a private key; configure the public key only`);
    if (typeof k.kid !== 'string' || k.kid === '') throw new Error(`${where} keys[${i}] needs a kid`);
  });
  return { keys } as JSONWebKeySet;
}

function algorithms(env: NodeJS.ProcessEnv): JwtAlgorithm[] {
  const raw = env.CDS_JWT_ALGORITHMS?.trim();
  if (!raw) return [...DEFAULT_ALGORITHMS];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(name)) {
      throw new Error(
        `CDS_JWT_ALGORITHMS: "${name}" is not accepted; choose from ${SUPPORTED_ALGORITHMS.join(', ')} (CDS Hooks forbids none and symmetric algorithms)`,
      );
    }
  }
  if (names.length === 0) throw new Error('CDS_JWT_ALGORITHMS must name at least one algorithm');
  return names as JwtAlgorithm[];
}

function fhirAllowlist(env: NodeJS.ProcessEnv, sandboxFhirPort: number): string[] {
  const raw = env.CDS_FHIR_ALLOWLIST;
  // Default: the embedded sandbox FHIR server only, under both loopback names. Not "any loopback
  // port": other local services (admin consoles, metadata proxies) would become reachable.
  const entries =
    raw === undefined
      ? [`http://localhost:${sandboxFhirPort}/fhir`, `http://127.0.0.1:${sandboxFhirPort}/fhir`]
      : raw.split(',').map((s) => s.trim()).filter(Boolean);
  return entries.map((entry) => {
    const normalised = normaliseFhirBaseUrl(entry);
    if (!normalised.ok) throw new Error(`CDS_FHIR_ALLOWLIST: ${normalised.message}`);
    return normalised.url;
  });
}

function readText(path: string, where: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new Error(`${where}: cannot read the file ${path}`);
  }
}

function stringArray(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new Error(`${where} must be an array of strings`);
  }
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = int(env, name, fallback);
  if (value === 0) throw new Error(`${name} must be greater than 0`);
  return value;
}

