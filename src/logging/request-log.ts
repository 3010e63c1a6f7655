/**
 * One log line per HTTP request, written when the response is finished (or the client went away):
 * request id, method, route pattern, status, duration, plus what the hook layer attached (service,
 * hookInstance, card and criterion counts). Never the query string, headers, body or path values.
 */
import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { match } from 'path-to-regexp';
import type { CriterionStatus } from '../engine/types';
import type { Logger } from './logger';

/** Characters and length a client-chosen X-Request-Id may have to be echoed and logged. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SAFE_TOKEN = /^[A-Za-z0-9._-]{1,64}$/;

const REQUEST_ID = 'requestId';
const REQUEST_LOG = 'requestLog';
const HOOK_FIELDS = 'hookLogFields';

export interface HookCallSummary {
  /** The CDS service id (from the route). */
  service: string;
  /** The caller's hookInstance; logged only when it is a UUID, as the spec requires. */
  hookInstance?: unknown;
  /** Number of cards returned. */
  cards: number;
  /** The criteria of every evaluation behind the cards; only their statuses are counted. */
  criteria?: ReadonlyArray<{ status: CriterionStatus }>;
  /** Short outcome label chosen by the hook layer, e.g. 'cards', 'no-card', 'deadline'. */
  outcome?: string;
}

/** A route the app serves, to name requests refused before their route ran (401, 429, 413). */
export interface KnownRoute {
  method: string;
  path: string;
}

/** What one finished request was, without data: for metrics. */
export interface FinishedRequest {
  method: string;
  route: string;
  status: number;
  durationSeconds: number;
  aborted: boolean;
  /** Set when the request reached a hook route's handler. */
  hook?: HookLogFields;
}

export interface RequestLoggingOptions {
  /** Routes behind middleware that may answer first (client auth, rate limit, body parser). */
  knownRoutes?: readonly KnownRoute[];
  /** Called once per request after its log line. */
  onFinished?: (request: FinishedRequest) => void;
}

interface HookLogFields {
  service: string;
  hookInstance?: string;
  cards?: number;
  criteria?: Partial<Record<CriterionStatus, number>>;
  outcome?: string;
}

export function createRequestLogging(logger: Logger, options: RequestLoggingOptions = {}): RequestHandler {
  const matchers = (options.knownRoutes ?? []).map(({ method, path }) => ({ method, path, matches: match(path, { decode: false }) }));
  /** The route pattern (`/cds-services/:id`), never the values in the path; 'unmatched' for 404s. */
  const routePattern = (req: Request): string => {
    const path: unknown = req.route?.path;
    if (typeof path === 'string') return `${req.baseUrl ?? ''}${path}` || '/';
    // Refused before routing: req.path is relative to where the refusing middleware was mounted.
    const fullPath = (req.originalUrl ?? req.url).split('?')[0];
    return matchers.find((m) => m.method === req.method && m.matches(fullPath) !== false)?.path ?? 'unmatched';
  };
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    const header = req.get('x-request-id');
    const requestId = header !== undefined && SAFE_REQUEST_ID.test(header) ? header : randomUUID();
    res.locals[REQUEST_ID] = requestId;
    res.locals[REQUEST_LOG] = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);

    let logged = false;
    const logOnce = (aborted: boolean) => {
      if (logged) return;
      logged = true;
      const status = res.statusCode;
      const durationMs = Number((process.hrtime.bigint() - started) / 1000n) / 1000;
      const route = routePattern(req);
      const hook = res.locals[HOOK_FIELDS] as HookLogFields | undefined;
      const line = {
        requestId,
        method: req.method,
        route,
        status,
        durationMs,
        ...(aborted ? { aborted: true } : {}),
        ...hook,
      };
      const level = aborted || status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      logger[level](line, 'request');
      options.onFinished?.({ method: req.method, route, status, durationSeconds: durationMs / 1000, aborted, ...(hook ? { hook } : {}) });
    };
    res.on('finish', () => logOnce(false));
    res.on('close', () => logOnce(!res.writableFinished));
    next();
  };
}

/** The id of this request (set by createRequestLogging); undefined if that middleware did not run. */
export function getRequestId(res: Response): string | undefined {
  return res.locals[REQUEST_ID] as string | undefined;
}

/** A logger whose lines carry this request's id; `fallback` when the middleware did not run. */
export function getRequestLogger(res: Response, fallback: Logger): Logger {
  return (res.locals[REQUEST_LOG] as Logger | undefined) ?? fallback;
}

const safeService = (service: string) => (SAFE_TOKEN.test(service) ? service : 'invalid');

/** Names the hook service as soon as it is known, so a call that then fails still says which service it was. */
export function annotateHookService(res: Response, service: string): void {
  res.locals[HOOK_FIELDS] = { service: safeService(service) } satisfies HookLogFields;
}

/** Adds the hook call's summary to this request's log line. */
export function annotateHookCall(res: Response, summary: HookCallSummary): void {
  const counts: Partial<Record<CriterionStatus, number>> = {};
  for (const { status } of summary.criteria ?? []) counts[status] = (counts[status] ?? 0) + 1;
  res.locals[HOOK_FIELDS] = {
    service: safeService(summary.service),
    ...(summary.hookInstance !== undefined
      ? { hookInstance: typeof summary.hookInstance === 'string' && UUID.test(summary.hookInstance) ? summary.hookInstance : 'invalid' }
      : {}),
    cards: summary.cards,
    ...(summary.criteria ? { criteria: counts } : {}),
    ...(summary.outcome !== undefined ? { outcome: SAFE_TOKEN.test(summary.outcome) ? summary.outcome : 'invalid' } : {}),
  } satisfies HookLogFields;
}
