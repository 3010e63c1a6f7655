/**
 * Refusals that must cost little: a per-address limit in front of client authentication (forged
 * tokens stop costing signature checks), a gzip body that inflates past the limit, and the Host
 * header that names another service.
 */
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadSecurityConfig } from '../../src/security/config';
import { RecordingEngine, SIGN, signRequest, testConfig } from '../cds-hooks/helpers';
import { capturingLogger, listen } from './support/http';
import { clientToken, trustedIssuers } from './support/tokens';

const ISSUER = 'https://ehr.cheap-refusals.test';
const security = () =>
  loadSecurityConfig(
    { CDS_TRUST_CLIENTS: 'true', CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: ISSUER }]), CDS_RATE_LIMIT_PER_MINUTE: '0' },
    { trustClients: true, sandboxFhirPort: 8080 },
  );

it('limits calls per address before authentication: forged tokens past the burst get 429 without a signature check', async () => {
  const logger = capturingLogger();
  const config = testConfig({ publicBaseUrl: 'https://cds.cheap-refusals.test' });
  config.http = { ...config.http, addressRateLimitPerMinute: 60, addressRateLimitBurst: 5 };
  const app = createApp({ engine: new RecordingEngine(), config, security: security(), logger });
  try {
    const forged = await clientToken({ iss: ISSUER, aud: `https://cds.cheap-refusals.test${SIGN}`, key: 'impostor-ec-p384' });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await request(app).post(SIGN).set('Authorization', `Bearer ${forged}`).send(signRequest())).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual(Array(7).fill(429));
    // Only the first five reached client authentication.
    expect(logger.lines().filter((l) => l.msg === 'client authentication failed')).toHaveLength(5);
  } finally {
    await app.closeResources();
  }
});

it('answers 413 to a gzip body that inflates past the limit, reading no more than the limit', async () => {
  const service = await listen(createApp({ engine: new RecordingEngine(), config: testConfig({ maxBodyBytes: 64 * 1024 }), logger: capturingLogger() }));
  try {
    const bomb = gzipSync(JSON.stringify({ ...signRequest(), padding: ' '.repeat(20 * 1024 * 1024) }));
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await fetch(`${service.baseUrl}${SIGN}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' },
      body: bomb,
    });
    expect(res.status).toBe(413);
  } finally {
    await service.close();
  }
});

it('refuses a token minted for another service even when the caller sets Host to that service', async () => {
  const service = await listen((baseUrl: string) =>
    createApp({ engine: new RecordingEngine(), config: testConfig({ publicBaseUrl: baseUrl }), security: security(), logger: capturingLogger() }),
  );
  try {
    const other = 'other-service.cheap-refusals.test';
    const token = await clientToken({ iss: ISSUER, aud: `http://${other}${SIGN}` });
    const res = await fetch(`${service.baseUrl}${SIGN}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Host: other },
      body: JSON.stringify(signRequest()),
    });
    expect(res.status).toBe(401);
    const own = await clientToken({ iss: ISSUER, aud: `${service.baseUrl}${SIGN}` });
    const ok = await fetch(`${service.baseUrl}${SIGN}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${own}`, 'Content-Type': 'application/json', Host: other },
      body: JSON.stringify(signRequest()),
    });
    expect(ok.status).toBe(200);
  } finally {
    await service.close();
  }
});
