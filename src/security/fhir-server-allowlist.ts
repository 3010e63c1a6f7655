/**
 * Which `fhirServer` a hook request may send us to (server-side request forgery guard). The
 * caller names a URL and hands us an access token for it; without this check, anyone able to call
 * a hook could make the service issue requests to arbitrary hosts, internal ones included.
 */
import type { SecurityConfig } from './config';

export type FhirServerCheck = { ok: true; url: string } | { ok: false; message: string };

/**
 * True when a URL or path has a `.` or `..` segment, plain, percent-encoded or with a `;` parameter
 * (`..;` is a parent step on Tomcat-hosted servers such as HAPI, and URL parsing leaves it alone).
 * Only the part before any query is looked at.
 */
export function hasDotSegment(urlOrPath: string): boolean {
  const path = urlOrPath.split(/[?#]/, 1)[0];
  return path.split(/[/\\]/).some((segment) => /^(\.|%2e){1,2}(;.*)?$/i.test(segment));
}

/**
 * Parses a FHIR base URL and returns its canonical form: lower-case scheme and host, no default
 * port, dot segments resolved, no trailing slash. Refuses what has no business in a base URL.
 */
export function normaliseFhirBaseUrl(raw: string): FhirServerCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: 'fhirServer is not a valid absolute URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, message: 'fhirServer must be an http or https URL' };
  }
  if (url.username || url.password) return { ok: false, message: 'fhirServer must not contain credentials' };
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    return { ok: false, message: 'fhirServer must be a base URL without query or fragment' };
  }
  // Encoded slashes or backslashes could be decoded by a server after our prefix check, walking
  // out of the allowed base path.
  if (/%2f|%5c|\\/i.test(url.pathname)) {
    return { ok: false, message: 'fhirServer path must not contain encoded slashes or backslashes' };
  }
  if (hasDotSegment(raw) || hasDotSegment(url.pathname)) {
    return { ok: false, message: 'fhirServer path must not contain "." or ".." segments' };
  }
  const path = url.pathname.replace(/\/+$/, '');
  return { ok: true, url: `${url.origin}${path}` };
}

/**
 * Whether the service may call `fhirServerUrl` for a client. With trust on, only the FHIR base URLs
 * configured for the verified issuer qualify; with trust off, the sandbox allowlist. A URL
 * qualifies when it equals an allowed base or lies below it on a path-segment boundary
 * (`https://ehr/fhir` allows `https://ehr/fhir/tenant-a`, not `https://ehr/fhirx`).
 */
export function checkFhirServer(
  issuer: string | undefined,
  fhirServerUrl: unknown,
  config: Pick<SecurityConfig, 'trustClients' | 'issuers' | 'fhirServerAllowlist'>,
): FhirServerCheck {
  if (typeof fhirServerUrl !== 'string' || fhirServerUrl === '') {
    return { ok: false, message: 'fhirServer must be a non-empty string' };
  }
  const candidate = normaliseFhirBaseUrl(fhirServerUrl);
  if (!candidate.ok) return candidate;

  let allowed: string[];
  if (config.trustClients) {
    const entry = issuer === undefined ? undefined : config.issuers.find((i) => i.iss === issuer);
    allowed = entry?.fhirServers ?? [];
  } else {
    allowed = config.fhirServerAllowlist;
  }
  const permitted = allowed.some((base) => candidate.url === base || candidate.url.startsWith(`${base}/`));
  return permitted
    ? candidate
    : { ok: false, message: 'fhirServer is not a FHIR server this service is allowed to call for this client' };
}
