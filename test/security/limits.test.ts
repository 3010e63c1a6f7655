/**
 * Limits of the whole app: the per-client rate limit (429 with Retry-After, per IP with trust off and
 * per verified issuer with trust on), the call deadline (503 with Retry-After long before the EHR
 * gives up), and the health and readiness probes.
 */
import { outcome } from '../support/operation-outcome';
import request from 'supertest';
import { createApp, type AppOptions } from '../../src/app';
import type { PolicyEngine } from '../../src/engine/types';
import { silentLogger } from '../../src/cds-hooks/logger';
import { loadSecurityConfig } from '../../src/security/config';
import { allowAnyFhirServer, everyOrderGoverned, RecordingEngine, unreadRecord, SIGN, signRequest, silentServer, testConfig } from '../cds-hooks/helpers';
import { listen } from './support/http';
import { clientToken, trustedIssuers } from './support/tokens';

const trustOff = (env: NodeJS.ProcessEnv = {}) => loadSecurityConfig(env, { trustClients: false, sandboxFhirPort: 8080 });

async function withApp<T>(options: Partial<AppOptions>, run: (app: ReturnType<typeof createApp>) => Promise<T>): Promise<T> {
  const app = createApp({
    engine: new RecordingEngine(),
    config: testConfig(),
    logger: silentLogger,
    security: trustOff({ CDS_RATE_LIMIT_PER_MINUTE: '0' }),
    ...options,
  });
  try {
    return await run(app);
  } finally {
    await app.closeResources();
  }
}

describe('rate limit', () => {
  it('per client IP with trust off: the burst passes, the next call is 429 with Retry-After', async () => {
    const security = trustOff({ CDS_RATE_LIMIT_PER_MINUTE: '6', CDS_RATE_LIMIT_BURST: '3' });
    await withApp({ security }, async (app) => {
      // One listening server, so every call comes from the same client address.
      const agent = request.agent(app);
      for (let i = 0; i < 3; i++) await agent.post(SIGN).send(signRequest()).expect(200);
      const limited = await agent.post(SIGN).send(signRequest());
      expect(limited.status).toBe(429);
      const retryAfter = Number(limited.headers['retry-after']);
      // 6 a minute with a burst of 3: 3 calls per 30 s window, so the next window is at most 30 s away.
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(30);
      expect(limited.body).toEqual(outcome('rate-limited', expect.stringContaining(`${retryAfter} s`)));
      // Discovery and feedback share the client's budget; probes do not.
      expect((await agent.get('/cds-services')).status).toBe(429);
      await agent.get('/health').expect(200);
      await agent.get('/ready').expect(200);
    });
  });

  it('per verified issuer with trust on: one client exhausting its budget leaves another untouched', async () => {
    const A = 'https://ehr.limits-a.test';
    const B = 'https://ehr.limits-b.test';
    const security = loadSecurityConfig(
      {
        CDS_TRUST_CLIENTS: 'true',
        CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: A }, { iss: B }]),
        CDS_RATE_LIMIT_PER_MINUTE: '6',
        CDS_RATE_LIMIT_BURST: '2',
      },
      { trustClients: true, sandboxFhirPort: 8080 },
    );
    const service = await listen((baseUrl: string) => createApp({ engine: new RecordingEngine(), config: testConfig({ publicBaseUrl: baseUrl }), logger: silentLogger, security }));
    try {
      const call = async (iss: string) => {
        const jwt = await clientToken({ iss, aud: `${service.baseUrl}${SIGN}` });
        return fetch(`${service.baseUrl}${SIGN}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${jwt}` },
          body: JSON.stringify(signRequest()),
        });
      };
      expect((await call(A)).status).toBe(200);
      expect((await call(A)).status).toBe(200);
      const limited = await call(A);
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await call(B)).status).toBe(200);
    } finally {
      await service.close();
    }
  });

  it('CDS_RATE_LIMIT_PER_MINUTE=0 turns it off', async () => {
    await withApp({ security: trustOff({ CDS_RATE_LIMIT_PER_MINUTE: '0', CDS_RATE_LIMIT_BURST: '1' }) }, async (app) => {
      const agent = request.agent(app);
      for (let i = 0; i < 5; i++) await agent.get('/cds-services').expect(200);
    });
  });
});

describe('call deadline', () => {
  /** An evaluator that never answers: only the deadline can end the call. */
  const hangingEngine: PolicyEngine = { orderPhase: everyOrderGoverned, prepareRecord: unreadRecord, evaluateOrder: () => new Promise(() => undefined) };

  it('a hanging evaluation is answered 503 with Retry-After, within the deadline plus a margin', async () => {
    await withApp({ engine: hangingEngine, config: testConfig({ hookDeadlineMs: 300 }) }, async (app) => {
      const started = Date.now();
      const res = await request(app).post(SIGN).send(signRequest());
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.body).toEqual(outcome('deadline-exceeded', expect.stringContaining('no coverage guidance was produced')));
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2000);
    });
  });

  it('a FHIR server that never answers ends in 412 before the call deadline (fetching stops early)', async () => {
    const silent = await silentServer();
    try {
      const config = testConfig({ hookDeadlineMs: 1200, fhirTimeoutMs: 10_000 });
      await withApp({ config, fhirServerPolicy: allowAnyFhirServer }, async (app) => {
        const started = Date.now();
        const res = await request(app).post(SIGN).send(signRequest({ prefetch: undefined, fhirServer: silent.url }));
        const elapsed = Date.now() - started;
        expect(res.status).toBe(412);
        expect(res.body).toEqual(outcome('prefetch-unavailable', expect.stringContaining('deadline')));
        expect(elapsed).toBeLessThan(config.hookDeadlineMs);
      });
    } finally {
      await silent.close();
    }
  });
});

describe('health and readiness', () => {
  it('GET /health is 200 and GET /ready is 200 when every part is ready', async () => {
    await withApp({ readiness: () => ({ engine: true, serviceDefinitions: true }) }, async (app) => {
      const health = await request(app).get('/health').expect(200);
      expect(health.body).toEqual({ status: 'ok' });
      const ready = await request(app).get('/ready').expect(200);
      expect(ready.body).toEqual({ status: 'ready', checks: { engine: true, serviceDefinitions: true } });
    });
  });

  it('GET /ready is 503 naming the part that is not ready, while /health stays 200', async () => {
    let accepting = true;
    await withApp({ readiness: () => ({ engine: true, accepting }) }, async (app) => {
      await request(app).get('/ready').expect(200);
      accepting = false;
      const ready = await request(app).get('/ready').expect(503);
      expect(ready.body).toEqual({ status: 'unavailable', checks: { engine: true, accepting: false } });
      expect(ready.headers['cache-control']).toBe('no-store');
      await request(app).get('/health').expect(200);
    });
  });

  it('probes need no client token with trust on', async () => {
    const security = loadSecurityConfig(
      { CDS_TRUST_CLIENTS: 'true', CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: 'https://ehr.limits-probe.test' }]) },
      { trustClients: true, sandboxFhirPort: 8080 },
    );
    await withApp({ security, config: testConfig({ publicBaseUrl: 'https://cds.limits-probe.test' }) }, async (app) => {
      await request(app).get('/health').expect(200);
      await request(app).get('/ready').expect(200);
      await request(app).get('/cds-services').expect(401);
    });
  });
});
