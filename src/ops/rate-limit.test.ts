import { outcome } from '../../test/support/operation-outcome';
import express from 'express';
import request from 'supertest';
import { createRateLimit, TokenBucketLimiter } from './rate-limit';

describe('TokenBucketLimiter', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('allows a burst, then refuses with the seconds until the next token', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 60, burst: 3, now: clock });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')]).toEqual([
      { allowed: true },
      { allowed: true },
      { allowed: true },
    ]);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('refills at the configured rate', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 6, burst: 1, now: clock });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 10 });
    now += 5_000;
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 5 });
    now += 5_000;
    expect(limiter.take('a').allowed).toBe(true);
  });

  it('never refills beyond the burst', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 60, burst: 2, now: clock });
    now += 3_600_000;
    expect([limiter.take('a'), limiter.take('a'), limiter.take('a')].map((r) => r.allowed)).toEqual([true, true, false]);
  });

  it('keeps clients apart', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 60, burst: 1, now: clock });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('b').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('holds at most maxKeys buckets, dropping refilled ones first', () => {
    const limiter = new TokenBucketLimiter({ perMinute: 60, burst: 1, maxKeys: 3, now: clock });
    limiter.take('idle');
    now += 60_000; // "idle" has refilled
    limiter.take('busy-1');
    limiter.take('busy-2');
    limiter.take('new');
    expect(limiter.size).toBe(3);
    expect(limiter.take('busy-1').allowed).toBe(false); // still remembered, still empty
    for (let i = 0; i < 10; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBeLessThanOrEqual(3);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => new TokenBucketLimiter({ perMinute: 0, burst: 1 })).toThrow('perMinute > 0');
    expect(() => new TokenBucketLimiter({ perMinute: 10, burst: 0 })).toThrow('burst >= 1');
  });
});

describe('createRateLimit', () => {
  const NOW = 5_000_000;

  function app(perMinute: number, issuerOf?: (req: express.Request) => string | undefined) {
    const a = express();
    // Stands in for client authentication, which puts the verified issuer on res.locals.
    a.use((req, res, next) => {
      const issuer = issuerOf?.(req);
      if (issuer) res.locals.clientIssuer = issuer;
      next();
    });
    a.use(createRateLimit({ perMinute, burst: 2, now: () => NOW }));
    a.post('/cds-services/:id', (_req, res) => {
      res.json({ cards: [] });
    });
    return a;
  }

  it('answers 429 with Retry-After once a client has used its burst', async () => {
    const server = app(30);
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    const refused = await request(server).post('/cds-services/x');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('2');
    expect(refused.body).toEqual(outcome('rate-limited', 'Too many calls from this client; retry after 2 s.'));
  });

  it('counts per verified issuer when there is one', async () => {
    const server = app(30, (req) => req.get('x-test-issuer'));
    for (let i = 0; i < 2; i++) await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://a.example');
    expect((await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://a.example')).status).toBe(429);
    expect((await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://b.example')).status).toBe(200);
  });

  it('is off when perMinute is 0', async () => {
    const server = app(0);
    for (let i = 0; i < 5; i++) expect((await request(server).post('/cds-services/x')).status).toBe(200);
  });
});
