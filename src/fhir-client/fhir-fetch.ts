/**
 * Reads what the EHR did not prefetch from the EHR's own FHIR server (fhir-kit-client), with the
 * limits a CDS service needs against a slow or hostile server: a timeout on every request, a cap
 * on response size, `Bundle.link` next pages followed only on the same server and only so far,
 * redirects followed only on the same server, and the access token sent to that server only.
 *
 * `FhirFetcher` is the seam: a later hardening pass can wrap it (for example with an allowlist of
 * FHIR servers) without touching prefetch resolution. `allowServer` is the built-in hook for that.
 */
import Client from 'fhir-kit-client';
import type { Bundle, FhirResource } from 'fhir/r4';
import { Agent } from 'undici';
import { hasDotSegment } from '../security/fhir-server-allowlist';

export type FhirFetchFailure =
  | 'not-allowed'
  | 'unreachable'
  | 'timeout'
  | 'unauthorized'
  | 'http-error'
  | 'too-large'
  | 'redirect'
  | 'foreign-link'
  | 'invalid-response';

/** Why a query failed, in words safe to return to the EHR (no token, no response body). */
export class FhirFetchError extends Error {
  constructor(
    readonly reason: FhirFetchFailure,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FhirFetchError';
  }
}

export interface FhirQuery {
  /** The EHR's FHIR base URL (already validated as absolute http(s)). */
  fhirServer: string;
  accessToken?: string;
  /** A relative query such as `Patient/123` or `Condition?patient=123`. */
  query: string;
  /** Aborts every request of this query (the hook call's deadline). */
  signal?: AbortSignal;
  /**
   * Epoch ms by which paging should be done: no next page is requested when it would likely end later (judged by
   * the last page's time); the pages read are kept and the result is marked truncated.
   */
  pageUntil?: number;
}

export interface FhirFetchResult {
  /** The resource read, or every resource of every page of a search; empty when a read found nothing. */
  resources: FhirResource[];
  pages: number;
  /** True when pages were left unread because of the page limit. */
  truncated: boolean;
}

export interface FhirFetcher {
  fetch(query: FhirQuery): Promise<FhirFetchResult>;
  close(): Promise<void>;
}

export interface FhirFetcherOptions {
  timeoutMs: number;
  maxPages: number;
  maxResponseBytes: number;
  /** Refuse a FHIR server before any request (default: every http(s) server). */
  allowServer?: (url: URL) => boolean;
}

const MAX_REDIRECTS = 3;

/**
 * fhir-kit-client's `debug` output (DEBUG=fhir-kit-client:*) prints request URLs, which carry
 * patient ids, the bodies of error responses, and headers: keep it off whatever DEBUG says.
 * (`debug` is the instance fhir-kit-client itself loads.)
 */
function silenceClientDebugOutput(): void {
  const debug = require('debug') as { enable(namespaces: string): void; disable(): string };
  const enabled = debug.disable();
  debug.enable([enabled, '-fhir-kit-client:*'].filter(Boolean).join(','));
}

/** True when `target` lies under the FHIR base: same origin and path prefix. */
function isUnderBase(target: URL, base: URL): boolean {
  const basePath = base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
  return target.origin === base.origin && (target.pathname + '/').startsWith(basePath);
}

/** The base as a directory URL, so relative references resolve beneath it. */
function baseDirectory(base: URL): string {
  return base.href.endsWith('/') ? base.href : base.href + '/';
}

interface HttpErrorShape {
  response: { status: number };
  config?: { headers?: { get(name: string): string | null } };
}

function isHttpError(error: unknown): error is HttpErrorShape {
  const response = (error as { response?: { status?: unknown } } | null)?.response;
  return typeof response?.status === 'number';
}

function describeNetworkError(error: unknown, transportCode: string | undefined, deadline?: AbortSignal): FhirFetchError {
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new FhirFetchError('timeout', deadline?.aborted ? 'the hook deadline passed' : 'the FHIR server did not answer in time');
  }
  const code = transportCode ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
  if (code === 'UND_ERR_RES_EXCEEDED_MAX_SIZE') return new FhirFetchError('too-large', 'the FHIR response is larger than allowed');
  if (code === ENCODED_BODY) return new FhirFetchError('invalid-response', 'the FHIR server sent a compressed body although asked for none');
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return new FhirFetchError('timeout', 'the FHIR server did not answer in time');
  }
  return new FhirFetchError('unreachable', 'the FHIR server could not be reached');
}

interface DispatchHandler {
  onConnect?(abort: (error: Error) => void, context?: unknown): void;
  onHeaders?(statusCode: number, headers: Buffer[] | string[] | null, resume: () => void, statusText: string): boolean;
  onError?(error: unknown): void;
}

/** Transport errors of a connection the server closed under us (undici's "other side closed", a reset). */
const STALE_CONNECTION_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Error code of a response refused for its Content-Encoding. */
const ENCODED_BODY = 'CDS_FHIR_ENCODED_BODY';

/**
 * The size cap (undici's maxResponseSize) counts bytes as they arrive on the wire. fetch() would
 * inflate a gzip or brotli body after that count, so 0.1 MB on the wire could become 100 MB in
 * memory. We ask for `identity` and refuse a body sent compressed anyway, at its headers, before
 * any of it is read: then the bytes counted are the bytes kept.
 */
function contentEncoding(headers: Buffer[] | string[] | null): string | undefined {
  if (!headers) return undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === 'content-encoding') return String(headers[i + 1]).trim().toLowerCase();
  }
  return undefined;
}

/**
 * Hands requests to the shared pool, refuses compressed bodies, and remembers the transport error
 * of the last request: fetch() reports a cut-off body only as "terminated", and does not always
 * pass the reason on.
 */
function observingDispatcher(pool: Agent): { dispatcher: object; lastErrorCode(): string | undefined } {
  let code: string | undefined;
  const dispatcher = {
    dispatch(options: Parameters<Agent['dispatch']>[0], handler: DispatchHandler): boolean {
      code = undefined;
      let abort: ((error: Error) => void) | undefined;
      const observed = new Proxy(handler, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          if (prop === 'onConnect') {
            return (abortRequest: (error: Error) => void, context?: unknown) => {
              abort = abortRequest;
              return value.call(target, abortRequest, context);
            };
          }
          if (prop === 'onHeaders') {
            return (statusCode: number, headers: Buffer[] | string[] | null, resume: () => void, statusText: string) => {
              const encoding = contentEncoding(headers);
              if (encoding !== undefined && encoding !== 'identity' && abort) {
                abort(Object.assign(new Error('compressed FHIR response refused'), { code: ENCODED_BODY }));
                return false;
              }
              return value.call(target, statusCode, headers, resume, statusText);
            };
          }
          if (prop !== 'onError') return value.bind(target);
          return (error: unknown) => {
            code = (error as { code?: string } | null)?.code;
            return value.call(target, error);
          };
        },
      });
      return pool.dispatch(options, observed as Parameters<Agent['dispatch']>[1]);
    },
  };
  return { dispatcher, lastErrorCode: () => code };
}

export function createFhirFetcher(options: FhirFetcherOptions): FhirFetcher {
  silenceClientDebugOutput();
  // One connection pool for every EHR server; undici enforces the size cap while reading.
  const pool = new Agent({
    maxResponseSize: options.maxResponseBytes,
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const allowServer = options.allowServer ?? (() => true);

  /**
   * A pooled keep-alive connection can be closed by the server just as we reuse it; the request then
   * fails before the server saw it. Reads are idempotent, so such a request is sent once more (undici
   * opens a new connection) before the server counts as unreachable.
   */
  async function requestOnceMore(client: Client, observer: ReturnType<typeof observingDispatcher>, target: string, signal: AbortSignal): Promise<unknown> {
    try {
      return await client.request(target, { options: { signal } });
    } catch (error) {
      const code = observer.lastErrorCode() ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
      if (isHttpError(error) || signal.aborted || code === undefined || !STALE_CONNECTION_CODES.has(code)) throw error;
      return client.request(target, { options: { signal } });
    }
  }

  async function get(client: Client, observer: ReturnType<typeof observingDispatcher>, base: URL, url: string, deadline?: AbortSignal): Promise<unknown> {
    let target = url;
    for (let hop = 0; ; hop++) {
      const timeout = AbortSignal.timeout(options.timeoutMs);
      const signal = deadline ? AbortSignal.any([timeout, deadline]) : timeout;
      try {
        return await requestOnceMore(client, observer, target, signal);
      } catch (error) {
        if (!isHttpError(error)) throw describeNetworkError(error, observer.lastErrorCode(), deadline);
        const { status } = error.response;
        if (status >= 300 && status < 400) {
          const location = error.config?.headers?.get('location');
          const next = location ? new URL(location, new URL(target, baseDirectory(base))) : undefined;
          if (!next || !isUnderBase(next, base) || hasDotSegment(location as string)) throw new FhirFetchError('redirect', 'the FHIR server redirected to another server', status);
          if (hop >= MAX_REDIRECTS) throw new FhirFetchError('redirect', 'the FHIR server redirected too many times', status);
          target = next.href;
          continue;
        }
        if (status === 401 || status === 403) throw new FhirFetchError('unauthorized', `the FHIR server refused access (HTTP ${status})`, status);
        if (status >= 200 && status < 300) throw new FhirFetchError('invalid-response', 'the FHIR server answered with something other than JSON', status);
        throw new FhirFetchError('http-error', `the FHIR server answered HTTP ${status}`, status);
      }
    }
  }

  function asResource(body: unknown): FhirResource {
    if (typeof body !== 'object' || body === null || typeof (body as { resourceType?: unknown }).resourceType !== 'string') {
      throw new FhirFetchError('invalid-response', 'the FHIR server answered with something other than a FHIR resource');
    }
    return body as FhirResource;
  }

  async function fetchQuery({ fhirServer, accessToken, query, signal, pageUntil }: FhirQuery): Promise<FhirFetchResult> {
    const base = new URL(fhirServer.replace(/\/+$/, ''));
    if (!allowServer(base)) throw new FhirFetchError('not-allowed', 'this FHIR server is not allowed');
    const observer = observingDispatcher(pool);
    const client = new Client({
      baseUrl: base.href,
      // Compressed bodies would slip past the size cap, so ask for none.
      customHeaders: { 'accept-encoding': 'identity' },
      requestOptions: { redirect: 'manual', dispatcher: observer.dispatcher } as RequestInit,
    });
    if (accessToken) client.bearerToken = accessToken;

    // A `.`/`..` step (or Tomcat's `..;`) in the query would walk out of the FHIR base.
    if (hasDotSegment(query)) throw new FhirFetchError('not-allowed', 'the FHIR query has a "." or ".." path segment');
    const isRead = !query.includes('?');
    let first: FhirResource;
    let pageStarted = Date.now();
    try {
      first = asResource(await get(client, observer, base, query, signal));
    } catch (error) {
      // A read of a resource the server does not have is "no data", not a failure.
      if (isRead && error instanceof FhirFetchError && (error.status === 404 || error.status === 410)) {
        return { resources: [], pages: 1, truncated: false };
      }
      throw error;
    }
    if (first.resourceType === 'OperationOutcome') throw new FhirFetchError('invalid-response', 'the FHIR server answered with an OperationOutcome');
    if (isRead) return { resources: [first], pages: 1, truncated: false };
    if (first.resourceType !== 'Bundle') throw new FhirFetchError('invalid-response', 'the FHIR search did not return a Bundle');

    const resources: FhirResource[] = [];
    let bundle: Bundle = first;
    let pages = 1;
    let lastPageMs = Date.now() - pageStarted;
    for (;;) {
      for (const entry of bundle.entry ?? []) {
        if (entry.search?.mode === 'outcome' || !entry.resource || entry.resource.resourceType === 'OperationOutcome') continue;
        resources.push(entry.resource);
      }
      const next = bundle.link?.find((link) => link.relation === 'next')?.url;
      if (!next) return { resources, pages, truncated: false };
      if (pages >= options.maxPages) return { resources, pages, truncated: true };
      if (pageUntil !== undefined && Date.now() + lastPageMs > pageUntil) return { resources, pages, truncated: true };
      let nextUrl: URL;
      try {
        nextUrl = new URL(next, baseDirectory(base));
      } catch {
        throw new FhirFetchError('invalid-response', 'the FHIR search returned an invalid next link');
      }
      // The token must never follow a link to another server.
      if (!isUnderBase(nextUrl, base) || hasDotSegment(next)) throw new FhirFetchError('foreign-link', 'the FHIR search linked its next page to another server');
      pageStarted = Date.now();
      const page = asResource(await get(client, observer, base, nextUrl.href, signal));
      lastPageMs = Date.now() - pageStarted;
      if (page.resourceType !== 'Bundle') throw new FhirFetchError('invalid-response', 'a FHIR search page was not a Bundle');
      bundle = page;
      pages++;
    }
  }

  return {
    fetch: fetchQuery,
    close: () => pool.close(),
  };
}
