/**
 * Per-client rate limit on rate-limiter-flexible. The key is the verified issuer when client trust
 * is on (mount this after createClientAuth), else the client IP. With a database the counters are
 * in its `rate_limit` table (the library's PostgreSQL store), so the limit holds across replicas;
 * if the database fails, a per-process limiter of the same size takes over (the library's
 * insurance limiter) rather than letting every call through or refusing them all.
 *
 * The library counts points in fixed windows. The configuration speaks of a rate and a burst;
 * they become `burst` calls per window of `burst / rate` (at least one second, then as many calls
 * as the rate allows in it): the same average rate, and at most `burst` calls at once per window.
 */
import { createHash } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { sendOperationOutcome } from '../cds-hooks/errors';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '../logging/logger';
import { getClientIssuer } from '../security/client-auth';
import type { Queryable } from '../storage/database';

export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  /** Shared counters; without it the limit is per process. */
  db?: Queryable;
  /** Defaults to the verified issuer, else the client IP. */
  keyOf?: (req: Request, res: Response) => string;
  logger?: Logger;
}

/** The fixed window the library counts in, from a rate per minute and a burst. */
export function rateWindow(perMinute: number, burst: number): { points: number; durationSeconds: number } {
  if (!(perMinute > 0) || !(burst >= 1)) throw new Error('rate limit needs perMinute > 0 and burst >= 1');
  const durationSeconds = Math.max(1, Math.round((burst * 60) / perMinute));
  return { points: Math.max(burst, Math.floor((perMinute * durationSeconds) / 60)), durationSeconds };
}

export function createLimiter(options: Pick<RateLimitOptions, 'perMinute' | 'burst' | 'db'>): RateLimiterAbstract {
  const { points, durationSeconds } = rateWindow(options.perMinute, options.burst);
  const memory = new RateLimiterMemory({ points, duration: durationSeconds });
  if (!options.db) return memory;
  const db = options.db;
  return new RateLimiterPostgres({
    // The library hands a pg-style query object; both engines take text and values.
    storeClient: { query: (q: { text: string; values?: unknown[] }) => db.query(q.text, q.values) },
    storeType: 'client',
    tableName: 'rate_limit',
    // Created by our migrations, never by the library.
    tableCreated: true,
    points,
    duration: durationSeconds,
    insuranceLimiter: memory,
  });
}

/** Express middleware answering 429 with Retry-After when a client exceeds its rate; off when perMinute is 0. */
export function createRateLimit(options: RateLimitOptions): RequestHandler {
  if (options.perMinute === 0) return (_req, _res, next) => next();
  const limiter = createLimiter(options);
  const keyOf = options.keyOf ?? defaultKey;
  return async (req, res, next) => {
    try {
      await limiter.consume(keyOf(req, res));
      next();
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) {
        // Neither the store nor the insurance limiter answered: let the call through, say so.
        options.logger?.error({ errorName: (refusal as Error | null)?.name }, 'rate limiter failed');
        next();
        return;
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(refusal.msBeforeNext / 1000));
      res.set('Retry-After', String(retryAfterSeconds));
      sendOperationOutcome(res, 429, 'rate-limited', `Too many calls from this client; retry after ${retryAfterSeconds} s.`);
    }
  };
}

/** Keys fit the store's 255 characters whatever the issuer's length. */
function defaultKey(req: Request, res: Response): string {
  const issuer = getClientIssuer(res);
  const key = issuer !== undefined ? `iss:${issuer}` : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
  return key.length <= 200 ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}
