import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { importJWK, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import request from 'supertest';
import { createLogger } from '../logging/logger';
import { createClientAuth, getClientIssuer, type AuthCheck } from './client-auth';
import type { SecurityConfig } from './config';

const KEYS = join(__dirname, '../../test/keys');
const readJson = (file: string) => JSON.parse(readFileSync(join(KEYS, file), 'utf8'));
const clientJwks = readJson('client.jwks.json');

const ISS = 'https://ehr.example.org';
const REMOTE_ISS = 'https://remote-ehr.example.org';
const BASE = 'https://cds.example.org';
/** A fixed clock: every token below is minted relative to it, so no test depends on the time of day. */
const NOW = Date.UTC(2030, 0, 15, 12, 0, 0) / 1000;

type KeyName = 'ec-p384' | 'rsa-2048' | 'ec-p256' | 'impostor-ec-p384';
const keyFiles: Record<KeyName, string> = {
  'ec-p384': 'ec-p384.private.jwk.json',
  'rsa-2048': 'rsa-2048.private.jwk.json',
  'ec-p256': 'ec-p256.private.jwk.json',
  'impostor-ec-p384': 'impostor-ec-p384.private.jwk.json',
};

let jtiCounter = 0;

interface TokenSpec {
  key?: KeyName;
  header?: Record<string, unknown>;
  claims?: JWTPayload;
  omit?: string[];
}

async function token(spec: TokenSpec = {}): Promise<string> {
  const jwk = readJson(keyFiles[spec.key ?? 'ec-p384']) as JWK;
  const claims: JWTPayload = {
    iss: ISS,
    aud: `${BASE}/cds-services/pump-order-sign`,
    iat: NOW,
    exp: NOW + 300,
    jti: `jti-${++jtiCounter}`,
    ...spec.claims,
  };
  for (const name of spec.omit ?? []) delete claims[name];
  const header = { alg: jwk.alg as string, kid: jwk.kid, typ: 'JWT', ...spec.header };
  for (const name of spec.omit ?? []) delete (header as Record<string, unknown>)[name];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(await importJWK(jwk, jwk.alg));
}

function security(overrides: Partial<SecurityConfig> = {}): SecurityConfig {
  return {
    trustClients: true,
    issuers: [{ iss: ISS, jwks: clientJwks, allowedJku: ['https://ehr.example.org/jwks.json'], fhirServers: [] }],
    algorithms: ['ES384', 'RS384'],
    clockSkewSeconds: 60,
    maxTokenLifetimeSeconds: 3600,
    replayCacheMaxEntries: 1000,
    jwksTimeoutMs: 2000,
    fhirServerAllowlist: [],
    rateLimitPerMinute: 0,
    rateLimitBurst: 1,
    ...overrides,
  };
}

/** `publicBaseUrl` null: none configured (a default parameter would swallow undefined). */
function appWith(config: SecurityConfig, publicBaseUrl: string | null = BASE) {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  const app = express();
  app.use(createClientAuth({ security: config, publicBaseUrl: publicBaseUrl ?? undefined, logger, now: () => NOW * 1000 }));
  app.get('/cds-services', (_req, res) => {
    res.json({ issuer: getClientIssuer(res) ?? null });
  });
  app.post('/cds-services/:id', (_req, res) => {
    res.json({ issuer: getClientIssuer(res) ?? null });
  });
  app.post('/cds-services/:id/feedback', (_req, res) => {
    res.json({ issuer: getClientIssuer(res) ?? null });
  });
  const logged = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, lines, logged };
}

async function expectRefused(config: SecurityConfig, bearer: string | undefined, check: AuthCheck, path = '/cds-services/pump-order-sign') {
  const { app, lines, logged } = appWith(config);
  const call = request(app).post(path);
  if (bearer !== undefined) call.set('Authorization', bearer);
  const response = await call.send({});
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toBe('Bearer');
  expect(response.body).toEqual({ error: 'unauthorized' });
  expect(logged()).toEqual([expect.objectContaining({ check, msg: 'client authentication failed', level: 40 })]);
  const tokenPart = bearer?.split(' ')[1];
  if (tokenPart) expect(lines.join('')).not.toContain(tokenPart);
}

describe('createClientAuth: accepted calls', () => {
  it('accepts an ES384 token verified with a JWKS file and exposes the issuer', async () => {
    const { app, logged } = appWith(security());
    const response = await request(app)
      .post('/cds-services/pump-order-sign')
      .set('Authorization', `Bearer ${await token()}`)
      .send({});
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ issuer: ISS });
    expect(logged()).toEqual([]);
  });

  it('accepts RS384', async () => {
    const { app } = appWith(security());
    const response = await request(app)
      .post('/cds-services/pump-order-sign')
      .set('Authorization', `Bearer ${await token({ key: 'rsa-2048' })}`);
    expect(response.status).toBe(200);
  });

  it('authenticates discovery and feedback calls with their own aud', async () => {
    const { app } = appWith(security());
    const discovery = await request(app)
      .get('/cds-services')
      .set('Authorization', `Bearer ${await token({ claims: { aud: `${BASE}/cds-services` } })}`);
    expect(discovery.status).toBe(200);
    const feedback = await request(app)
      .post('/cds-services/pump-order-sign/feedback')
      .set('Authorization', `Bearer ${await token({ claims: { aud: `${BASE}/cds-services/pump-order-sign/feedback` } })}`);
    expect(feedback.status).toBe(200);
  });

  it('accepts aud as an array of the one URL called, and ignores the query string', async () => {
    const { app } = appWith(security());
    const bearer = await token({ claims: { aud: [`${BASE}/cds-services/pump-order-sign`] } });
    const response = await request(app).post('/cds-services/pump-order-sign?debug=1').set('Authorization', `Bearer ${bearer}`);
    expect(response.status).toBe(200);
  });

  it('refuses an aud array naming a second audience beside the URL called (docs/security.md: one audience)', async () => {
    const { app } = appWith(security());
    const bearer = await token({ claims: { aud: ['https://elsewhere.example', `${BASE}/cds-services/pump-order-sign`] } });
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${bearer}`)).status).toBe(401);
  });

  it('accepts a jku the issuer registered', async () => {
    const { app } = appWith(security());
    const bearer = await token({ header: { jku: 'https://ehr.example.org/jwks.json' } });
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${bearer}`)).status).toBe(200);
  });

  it('accepts a token expired by less than the clock skew', async () => {
    const { app } = appWith(security());
    const bearer = await token({ claims: { iat: NOW - 330, exp: NOW - 30 } });
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${bearer}`)).status).toBe(200);
  });

  it('accepts ES256 only when configured', async () => {
    const bearer = await token({ key: 'ec-p256' });
    await expectRefused(security(), `Bearer ${bearer}`, 'alg');
    const { app } = appWith(security({ algorithms: ['ES384', 'RS384', 'ES256'] }));
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${bearer}`)).status).toBe(200);
  });

  it('refuses to be built with trust on and no public base URL: the audience never comes from the Host header', () => {
    expect(() => appWith(security(), null)).toThrow(/PUBLIC_BASE_URL/);
  });

  it('refuses a token naming another service of the same issuer whatever Host the caller sends', async () => {
    const { app } = appWith(security());
    const other = await token({ claims: { aud: 'https://other-service.example/cds-services' } });
    const response = await request(app).get('/cds-services').set('Host', 'other-service.example').set('Authorization', `Bearer ${other}`);
    expect(response.status).toBe(401);
  });

  it('lets every call through, with no issuer, when trust is off', async () => {
    const { app } = appWith(security({ trustClients: false }));
    const response = await request(app).post('/cds-services/pump-order-sign').send({});
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ issuer: null });
  });
});

describe('createClientAuth: refused calls answer 401 and log the failed check once', () => {
  it('refuses a call without Authorization', async () => {
    await expectRefused(security(), undefined, 'header');
  });

  it('refuses a scheme other than Bearer', async () => {
    await expectRefused(security(), `Basic ${Buffer.from('user:pass').toString('base64')}`, 'header');
  });

  it('refuses a token that is not a JWS', async () => {
    await expectRefused(security(), 'Bearer not-a-jwt', 'malformed');
    await expectRefused(security(), 'Bearer aaa.bbb.ccc', 'malformed');
  });

  it('refuses alg none', async () => {
    const unsigned = new UnsecuredJWT({ iss: ISS, aud: `${BASE}/cds-services/pump-order-sign`, iat: NOW, exp: NOW + 300, jti: 'n' }).encode();
    await expectRefused(security(), `Bearer ${unsigned}`, 'alg');
  });

  it('refuses an HMAC-signed token', async () => {
    const hmac = await new SignJWT({ iss: ISS, aud: `${BASE}/cds-services/pump-order-sign`, iat: NOW, exp: NOW + 300, jti: 'h' })
      .setProtectedHeader({ alg: 'HS256', kid: 'test-ec-p384', typ: 'JWT' })
      .sign(new TextEncoder().encode('a shared secret that nobody should use'));
    await expectRefused(security(), `Bearer ${hmac}`, 'alg');
  });

  it('refuses a token without kid', async () => {
    await expectRefused(security(), `Bearer ${await token({ omit: ['kid'] })}`, 'kid');
  });

  it('refuses a typ other than JWT', async () => {
    await expectRefused(security(), `Bearer ${await token({ header: { typ: 'at+jwt' } })}`, 'typ');
  });

  it('refuses an issuer not on the allowlist', async () => {
    await expectRefused(security(), `Bearer ${await token({ claims: { iss: 'https://stranger.example' } })}`, 'iss');
    await expectRefused(security(), `Bearer ${await token({ omit: ['iss'] })}`, 'iss');
  });

  it('refuses a jku the issuer did not register, without fetching it', async () => {
    const bearer = await token({ header: { jku: 'https://attacker.example/jwks.json' } });
    await expectRefused(security(), `Bearer ${bearer}`, 'jku');
  });

  it('refuses a kid the issuer’s key set does not hold', async () => {
    await expectRefused(security(), `Bearer ${await token({ header: { kid: 'unknown-kid' } })}`, 'key');
  });

  it('refuses a signature made with another key under the same kid', async () => {
    await expectRefused(security(), `Bearer ${await token({ key: 'impostor-ec-p384' })}`, 'signature');
  });

  it('refuses an aud naming another endpoint or another host', async () => {
    await expectRefused(security(), `Bearer ${await token({ claims: { aud: `${BASE}/cds-services/other` } })}`, 'aud');
    await expectRefused(security(), `Bearer ${await token({ claims: { aud: 'https://evil.example/cds-services/pump-order-sign' } })}`, 'aud');
    await expectRefused(security(), `Bearer ${await token({ omit: ['aud'] })}`, 'aud');
  });

  it('refuses an expired token and one without exp', async () => {
    await expectRefused(security(), `Bearer ${await token({ claims: { iat: NOW - 600, exp: NOW - 300 } })}`, 'exp');
    await expectRefused(security(), `Bearer ${await token({ omit: ['exp'] })}`, 'exp');
  });

  it('refuses a token issued in the future or without iat', async () => {
    await expectRefused(security(), `Bearer ${await token({ claims: { iat: NOW + 600, exp: NOW + 900 } })}`, 'iat');
    await expectRefused(security(), `Bearer ${await token({ omit: ['iat'] })}`, 'iat');
  });

  it('refuses a token whose lifetime exceeds the maximum', async () => {
    await expectRefused(security(), `Bearer ${await token({ claims: { iat: NOW, exp: NOW + 3601 } })}`, 'lifetime');
  });

  it('refuses a token without jti', async () => {
    await expectRefused(security(), `Bearer ${await token({ omit: ['jti'] })}`, 'jti');
  });

  it('refuses the second use of the same token (replay)', async () => {
    const { app, logged } = appWith(security());
    const bearer = `Bearer ${await token()}`;
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', bearer)).status).toBe(200);
    const replay = await request(app).post('/cds-services/pump-order-sign').set('Authorization', bearer);
    expect(replay.status).toBe(401);
    expect(logged()).toEqual([expect.objectContaining({ check: 'replay' })]);
  });

  it('does not let a refused token burn its jti', async () => {
    const { app } = appWith(security());
    const wrongAud = await token({ claims: { jti: 'shared', aud: `${BASE}/cds-services/other` } });
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${wrongAud}`)).status).toBe(401);
    const good = await token({ claims: { jti: 'shared' } });
    expect((await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${good}`)).status).toBe(200);
  });
});

describe('createClientAuth with a remote JWKS', () => {
  let server: Server;
  let jwksUrl: string;
  let fetches = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/.well-known/jwks.json') {
        fetches++;
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(clientJwks));
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const remoteSecurity = (url: () => string) =>
    security({ issuers: [{ iss: REMOTE_ISS, jwksUrl: url(), allowedJku: [url()], fhirServers: [] }] });

  it('verifies against the fetched key set and caches it', async () => {
    const { app } = appWith(remoteSecurity(() => jwksUrl));
    fetches = 0;
    for (const jku of [undefined, jwksUrl]) {
      const bearer = await token({ claims: { iss: REMOTE_ISS }, header: jku ? { jku } : {} });
      const response = await request(app).post('/cds-services/pump-order-sign').set('Authorization', `Bearer ${bearer}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ issuer: REMOTE_ISS });
    }
    expect(fetches).toBe(1);
  });

  it('refuses with check "jwks" when the key set cannot be fetched', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/jwks.json`;
    await new Promise((resolve) => closed.close(resolve));
    const bearer = await token({ claims: { iss: REMOTE_ISS } });
    await expectRefused(remoteSecurity(() => deadUrl), `Bearer ${bearer}`, 'jwks');
  });
});
