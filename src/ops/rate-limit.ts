/**
 * Per-client rate limit (token bucket, in memory). Each client has a bucket of `burst` tokens that
 * refills at `perMinute`/60 tokens a second; a call takes one token or is refused with 429 and
 * Retry-After. The key is the verified issuer when client trust is on (mount this after
 * createClientAuth), else the client IP. One instance per process: behind several replicas each
 * enforces its own share.
 */
import { sendOperationOutcome } from '../cds-hooks/errors';
import type { Request, RequestHandler, Response } from 'express';
import { getClientIssuer } from '../security/client-auth';

export type TakeResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface TokenBucketOptions {
  perMinute: number;
  burst: number;
  /** Most buckets held; idle ones are dropped first. Bounds memory when keyed by IP. */
  maxKeys?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly ratePerMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenBucketOptions) {
    if (!(options.perMinute > 0) || !(options.burst >= 1)) throw new Error('rate limit needs perMinute > 0 and burst >= 1');
    this.ratePerMs = options.perMinute / 60_000;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  take(key: string): TakeResult {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      bucket.tokens = Math.min(this.options.burst, bucket.tokens + (now - bucket.updatedMs) * this.ratePerMs);
      bucket.updatedMs = now;
    } else {
      if (this.buckets.size >= this.maxKeys) this.dropIdle(now);
      bucket = { tokens: this.options.burst, updatedMs: now };
      this.buckets.set(key, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerMs / 1000)) };
  }

  get size(): number {
    return this.buckets.size;
  }

  /** A bucket that has refilled completely is the same as a new one, so forgetting it is free. */
  private dropIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + (now - bucket.updatedMs) * this.ratePerMs >= this.options.burst) this.buckets.delete(key);
    }
    // All busy (a flood from many addresses): forget the oldest, which at worst lets them start afresh.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  /** Defaults to the verified issuer, else the client IP. */
  keyOf?: (req: Request, res: Response) => string;
  now?: () => number;
}

/** Express middleware answering 429 with Retry-After when a client exceeds its rate; off when perMinute is 0. */
export function createRateLimit(options: RateLimitOptions): RequestHandler {
  if (options.perMinute === 0) return (_req, _res, next) => next();
  const limiter = new TokenBucketLimiter({ perMinute: options.perMinute, burst: options.burst, now: options.now });
  const keyOf = options.keyOf ?? defaultKey;
  return (req, res, next) => {
    const result = limiter.take(keyOf(req, res));
    if (result.allowed) return next();
    res.set('Retry-After', String(result.retryAfterSeconds));
    sendOperationOutcome(res, 429, 'rate-limited', `Too many calls from this client; retry after ${result.retryAfterSeconds} s.`);
  };
}

function defaultKey(req: Request, res: Response): string {
  const issuer = getClientIssuer(res);
  return issuer !== undefined ? `iss:${issuer}` : `ip:${req.ip ?? req.socket.remoteAddress ?? 'unknown'}`;
}
