import { outcome } from '../../test/support/operation-outcome';
import express from 'express';
import request from 'supertest';
import type { Queryable } from '../storage/database';
import { createRateLimit, rateWindow } from './rate-limit';

describe('rateWindow', () => {
  it('turns a rate and a burst into burst calls per window of burst / rate', () => {
    expect(rateWindow(600, 60)).toEqual({ points: 60, durationSeconds: 6 });
    expect(rateWindow(60, 3)).toEqual({ points: 3, durationSeconds: 3 });
    expect(rateWindow(1, 2)).toEqual({ points: 2, durationSeconds: 120 });
  });

  it('keeps the rate when the burst is shorter than a second', () => {
    expect(rateWindow(600, 1)).toEqual({ points: 10, durationSeconds: 1 });
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => rateWindow(0, 1)).toThrow('perMinute > 0');
    expect(() => rateWindow(10, 0)).toThrow('burst >= 1');
  });
});

describe('createRateLimit', () => {
  function app(perMinute: number, options: { issuerOf?: (req: express.Request) => string | undefined; db?: Queryable } = {}) {
    const a = express();
    // Stands in for client authentication, which puts the verified issuer on res.locals.
    a.use((req, res, next) => {
      const issuer = options.issuerOf?.(req);
      if (issuer) res.locals.clientIssuer = issuer;
      next();
    });
    a.use(createRateLimit({ perMinute, burst: 2, db: options.db }));
    a.post('/cds-services/:id', (_req, res) => {
      res.json({ cards: [] });
    });
    return a;
  }

  it('answers 429 with Retry-After once a client has used its burst', async () => {
    // 30 a minute, burst 2: 2 calls per 4 s window.
    const server = app(30);
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    const refused = await request(server).post('/cds-services/x');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(4);
    expect(refused.body).toEqual(outcome('rate-limited', `Too many calls from this client; retry after ${retryAfter} s.`));
  });

  it('counts per verified issuer when there is one', async () => {
    const server = app(30, { issuerOf: (req) => req.get('x-test-issuer') });
    for (let i = 0; i < 2; i++) await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://a.example');
    expect((await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://a.example')).status).toBe(429);
    expect((await request(server).post('/cds-services/x').set('X-Test-Issuer', 'https://b.example')).status).toBe(200);
  });

  it('falls back to a per-process limit when the database fails, still refusing past the burst', async () => {
    const down: Queryable = {
      query: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
      exec: async () => undefined,
    };
    const server = app(30, { db: down });
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    expect((await request(server).post('/cds-services/x')).status).toBe(200);
    expect((await request(server).post('/cds-services/x')).status).toBe(429);
  });

  it('is off when perMinute is 0', async () => {
    const server = app(0);
    for (let i = 0; i < 5; i++) expect((await request(server).post('/cds-services/x')).status).toBe(200);
  });
});
