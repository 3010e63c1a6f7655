/**
 * One JSON request to a client's FHIR server with the limits a hook call needs: a timeout (and the
 * hook deadline's signal), a cap on the response size, and no redirect to another origin (which
 * would carry the client's access token to a host nobody vetted). Failures come back as one typed
 * error whose message never contains the URL's path or query (they can hold identifiers).
 */

export type FhirFetchErrorKind = 'timeout' | 'unreachable' | 'http' | 'too-large' | 'invalid-json' | 'redirect';

export class FhirFetchError extends Error {
  readonly kind: FhirFetchErrorKind;
  /** HTTP status, for kind 'http'. */
  readonly status?: number;
  /** Origin of the server that failed (scheme://host:port), never the path or query. */
  readonly origin: string;

  constructor(kind: FhirFetchErrorKind, origin: string, message: string, status?: number) {
    super(message);
    this.name = 'FhirFetchError';
    this.kind = kind;
    this.origin = origin;
    this.status = status;
  }
}

export interface SafeFetchOptions {
  /** e.g. `{ Authorization: 'Bearer …' }`; Accept defaults to FHIR JSON. */
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  /** Request body (for POST, e.g. a batch Bundle as JSON text). */
  body?: string;
  /** Timeout of the whole exchange, body included. */
  timeoutMs: number;
  /** Largest accepted response body. */
  maxBytes: number;
  /** Origin the request and any redirect must stay on; default: the origin of `url`. */
  allowedOrigin?: string;
  /** Aborts the request from outside, e.g. the hook deadline (see ops/deadline.ts). */
  signal?: AbortSignal;
  /** Same-origin redirects followed before giving up; default 3. */
  maxRedirects?: number;
}

export interface SafeFetchResult<T> {
  status: number;
  /** Final URL after same-origin redirects. */
  url: string;
  body: T;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export async function safeFetchJson<T = unknown>(url: string, options: SafeFetchOptions): Promise<SafeFetchResult<T>> {
  const origin = options.allowedOrigin ?? new URL(url).origin;
  if (new URL(url).origin !== origin) {
    throw new FhirFetchError('redirect', origin, 'FHIR request URL is outside the allowed origin');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const abortError = (): FhirFetchError =>
    timeout.aborted
      ? new FhirFetchError('timeout', origin, `FHIR server did not answer within ${options.timeoutMs} ms`)
      : new FhirFetchError('timeout', origin, 'FHIR request cancelled by the hook deadline');

  let current = url;
  let method = options.method ?? 'GET';
  let body = options.body;
  const maxRedirects = options.maxRedirects ?? 3;
  for (let redirects = 0; ; redirects++) {
    let response: Response;
    try {
      response = await fetch(current, {
        method,
        body,
        headers: { Accept: 'application/fhir+json, application/json', ...options.headers },
        redirect: 'manual',
        signal,
      });
    } catch {
      if (signal.aborted) throw abortError();
      throw new FhirFetchError('unreachable', origin, 'FHIR server could not be reached');
    }

    if (REDIRECT_STATUSES.has(response.status)) {
      await discard(response);
      const location = response.headers.get('location');
      const next = location ? safeUrl(location, current) : undefined;
      if (!next || next.origin !== origin) {
        throw new FhirFetchError('redirect', origin, 'FHIR server redirected to another origin; not followed');
      }
      if (redirects >= maxRedirects) throw new FhirFetchError('redirect', origin, 'FHIR server redirected too many times');
      current = next.href;
      // RFC 9110: 303 always, 301/302 by long practice, turn the retry into a GET without body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      continue;
    }

    if (!response.ok) {
      await discard(response);
      throw new FhirFetchError('http', origin, `FHIR server answered HTTP ${response.status}`, response.status);
    }
    const text = await readCapped(response, options.maxBytes, origin, signal, abortError);
    try {
      return { status: response.status, url: current, body: JSON.parse(text) as T };
    } catch {
      throw new FhirFetchError('invalid-json', origin, 'FHIR server answered with a body that is not JSON');
    }
  }
}

async function readCapped(
  response: Response,
  maxBytes: number,
  origin: string,
  signal: AbortSignal,
  abortError: () => FhirFetchError,
): Promise<string> {
  const tooLarge = () => new FhirFetchError('too-large', origin, `FHIR response exceeds ${maxBytes} bytes`);
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await discard(response);
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FhirFetchError) throw error;
    if (signal.aborted) throw abortError();
    throw new FhirFetchError('unreachable', origin, 'FHIR server connection failed while reading the response');
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

function safeUrl(location: string, base: string): URL | undefined {
  try {
    return new URL(location, base);
  } catch {
    return undefined;
  }
}
