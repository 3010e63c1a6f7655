/**
 * The admin API: the only way to read the call record and the feedback. Its own credential
 * (`Authorization: Bearer $ADMIN_TOKEN`), never a CDS client's JWT; off when ADMIN_TOKEN is unset
 * (the app does not mount it). Every authenticated request is itself recorded in `admin_access`
 * before the answer is sent; if that record cannot be written, nothing is read. Refused ones are
 * logged only (an unauthenticated caller must not be able to fill the database).
 *
 *   GET /admin/calls?hookInstance=<uuid>            the calls of one hook instance
 *   GET /admin/calls?coverageAssertionId=<id>       the call that gave this coverage assertion
 *   GET /admin/calls?cardUuid=<uuid>                the call that returned this card
 *   GET /admin/feedback/summary?since=<date>[&until=<date>]
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import { HttpError, invalid, operationOutcome } from '../cds-hooks/errors';
import type { Logger } from '../logging/logger';
import { findCalls, type CallLookup } from '../storage/call-record';
import type { Queryable } from '../storage/database';
import { summariseFeedback } from '../storage/feedback-store';

export interface AdminOptions {
  token: string;
  db: Queryable;
  logger: Logger;
  now?: () => Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A date (YYYY-MM-DD, midnight UTC) or a date-time with a zone. */
const DATE_OR_DATE_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const MAX_ID_LENGTH = 256;

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createAdminRouter(options: AdminOptions): Router {
  const expected = digest(options.token);
  const now = options.now ?? (() => new Date());
  const router = Router();

  /** Records the access, then answers; an access that cannot be recorded is not answered. */
  async function answer(req: Request, res: Response, status: number, body: unknown, results?: number): Promise<void> {
    try {
      await options.db.query(
        'INSERT INTO admin_access (method, path, query, status, results, remote_address) VALUES ($1, $2, $3::jsonb, $4, $5, $6)',
        [req.method, req.baseUrl + req.path, JSON.stringify(req.query), status, results ?? null, req.ip ?? null],
      );
    } catch (error) {
      options.logger.error({ errorName: (error as Error | null)?.name }, 'admin access could not be recorded; request refused');
      res.status(503).set('Cache-Control', 'no-store').json(operationOutcome('unavailable', 'the audit log is unavailable; try again later'));
      return;
    }
    res.status(status).set('Cache-Control', 'no-store').json(body);
  }

  const handle =
    (work: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await work(req, res);
      } catch (error) {
        if (!(error instanceof HttpError) || error.status >= 500) throw error;
        await answer(req, res, error.status, operationOutcome(error.code, error.message));
      }
    };

  router.use(async (req, res, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    if (match && timingSafeEqual(digest(match[1]), expected)) return next();
    // Logged, not written to the database: unauthenticated callers must not be able to fill it.
    options.logger.warn({ path: req.baseUrl + req.path }, 'admin API: refused, no valid admin token');
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json(operationOutcome('unauthorized', 'admin API: Authorization: Bearer <ADMIN_TOKEN> required'));
  });

  router.get(
    '/calls',
    handle(async (req, res) => {
      const lookup = callLookup(req.query);
      const calls = await findCalls(options.db, lookup);
      await answer(req, res, 200, { calls }, calls.length);
    }),
  );

  router.get(
    '/feedback/summary',
    handle(async (req, res) => {
      const since = dateParam(req.query.since, 'since');
      if (since === undefined) throw invalid('since is required (a date such as 2026-01-31 or a date-time with a zone)');
      const until = dateParam(req.query.until, 'until') ?? now();
      if (until <= since) throw invalid('until must be after since');
      const summary = await summariseFeedback(options.db, since, until);
      await answer(req, res, 200, summary, summary.total);
    }),
  );

  router.use(
    handle(async (req) => {
      throw new HttpError(404, 'not-found', `no admin route for ${req.method} ${req.path.slice(0, 200)}`);
    }),
  );
  return router;
}

function callLookup(query: Request['query']): CallLookup {
  const given = (['hookInstance', 'coverageAssertionId', 'cardUuid'] as const).filter((name) => query[name] !== undefined);
  if (given.length !== 1) throw invalid('give exactly one of hookInstance, coverageAssertionId and cardUuid');
  const name = given[0];
  const value = query[name];
  if (typeof value !== 'string' || value === '' || value.length > MAX_ID_LENGTH) throw invalid(`${name} must be one non-empty value`);
  if (name !== 'coverageAssertionId' && !UUID.test(value)) throw invalid(`${name} must be a uuid`);
  return name === 'hookInstance' ? { hookInstance: value } : name === 'cardUuid' ? { cardUuid: value } : { coverageAssertionId: value };
}

function dateParam(value: unknown, name: string): Date | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !DATE_OR_DATE_TIME.test(value)) {
    throw invalid(`${name} must be a date (YYYY-MM-DD) or a date-time with a zone`);
  }
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime())) throw invalid(`${name} is not a valid date`);
  return date;
}

/** ADMIN_TOKEN, checked at startup: long enough that guessing it is hopeless. Undefined: admin API off. */
export function loadAdminToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const token = env.ADMIN_TOKEN?.trim();
  if (!token) return undefined;
  if (token.length < 32) throw new Error('ADMIN_TOKEN must be at least 32 characters (e.g. openssl rand -hex 32)');
  return token;
}
