/**
 * CDS Hooks "Trusting CDS Clients" through the whole app with trust on: discovery, hook and feedback
 * calls need a JWT signed by a configured issuer whose `aud` is the URL called. Every refusal is a
 * bare 401 with `WWW-Authenticate: Bearer`, and the operator gets exactly one log line naming the
 * failed check, never the token.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, base64url } from 'jose';
import { createApp } from '../../src/app';
import { createMemoryFeedbackStore } from '../../src/cds-hooks/feedback';
import { loadSecurityConfig } from '../../src/security/config';
import { RecordingEngine, SIGN, signRequest, testConfig } from '../cds-hooks/helpers';
import { capturingLogger, listen, type ListeningApp } from './support/http';
import { clientToken, nowSeconds, trustedIssuers } from './support/tokens';

const ISSUER = 'https://ehr.client-trust.test';
const DISCOVERY = '/cds-services';
const FEEDBACK = `${SIGN}/feedback`;

const logger = capturingLogger();
const feedbackStore = createMemoryFeedbackStore();
let service: ListeningApp;

beforeAll(async () => {
  const security = loadSecurityConfig(
    {
      CDS_TRUST_CLIENTS: 'true',
      CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: ISSUER, fhirServers: ['http://127.0.0.1:9/fhir'] }]),
      CDS_RATE_LIMIT_PER_MINUTE: '0',
    },
    { trustClients: true, sandboxFhirPort: 8080 },
  );
  service = await listen((baseUrl: string) => createApp({ engine: new RecordingEngine(), config: testConfig({ publicBaseUrl: baseUrl }), security, logger, feedbackStore }));
});

afterAll(() => service.close());

beforeEach(() => logger.clear());

const url = (path: string) => `${service.baseUrl}${path}`;

const feedbackBody = () => ({
  feedback: [{ card: randomUUID(), outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }],
});

/** Each endpoint with a body that is valid once authenticated. */
const endpoints = [
  { name: 'discovery', method: 'GET', path: DISCOVERY, body: () => undefined },
  { name: 'hook', method: 'POST', path: SIGN, body: () => signRequest() },
  { name: 'feedback', method: 'POST', path: FEEDBACK, body: () => feedbackBody() },
] as const;

async function call(method: string, path: string, body: unknown, authorization?: string): Promise<Response> {
  return fetch(url(path), {
    method,
    headers: {
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const signCall = (authorization?: string) => call('POST', SIGN, signRequest(), authorization);

/** The lines written by client authentication (they carry `check`). */
const authFailureLines = () => logger.lines().filter((line) => line.msg === 'client authentication failed');

async function expectRefused(res: Response, check: string, token?: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  // Nothing about which check failed reaches the caller.
  expect(await res.json()).toEqual({ error: 'unauthorized' });
  const failures = authFailureLines();
  expect(failures).toHaveLength(1);
  expect(failures[0]).toMatchObject({ level: 'warn', check, requestId: expect.any(String) });
  expect(logger.lines().filter((line) => line.check !== undefined)).toHaveLength(1);
  // The request line says 401 too, and nothing anywhere holds the token or any part of it.
  expect(logger.lines()).toContainEqual(expect.objectContaining({ msg: 'request', status: 401 }));
  if (token !== undefined) {
    const all = logger.raw.join('\n');
    for (const part of [token, ...token.split('.').filter((p) => p.length > 0)]) expect(all).not.toContain(part);
  }
}

describe('a call without a token', () => {
  it.each(endpoints)('$name: 401 with WWW-Authenticate and no details', async ({ method, path, body }) => {
    const res = await call(method, path, body());
    await expectRefused(res, 'header');
  });

  it('a Basic authorization header is no bearer token', async () => {
    await expectRefused(await signCall('Basic dXNlcjpwYXNz'), 'header');
  });

  it('leaves the health probes open', async () => {
    expect((await fetch(url('/health'))).status).toBe(200);
    expect((await fetch(url('/ready'))).status).toBe(200);
  });
});

describe('a valid ES384 token whose aud is the URL called', () => {
  it('discovery: 200 with the services', async () => {
    const token = await clientToken({ iss: ISSUER, aud: url(DISCOVERY) });
    const res = await call('GET', DISCOVERY, undefined, `Bearer ${token}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { services: { id: string }[] };
    expect(body.services.map((s) => s.id).sort()).toEqual(['intrathecal-pump-order-select', 'intrathecal-pump-order-sign']);
  });

  it('hook: 200 with the card', async () => {
    const token = await clientToken({ iss: ISSUER, aud: url(SIGN) });
    const res = await signCall(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { cards: unknown[] }).cards).toHaveLength(1);
    expect(authFailureLines()).toEqual([]);
    expect(logger.raw.join('\n')).not.toContain(token);
  });

  it('feedback: 200 and stored', async () => {
    const token = await clientToken({ iss: ISSUER, aud: url(FEEDBACK) });
    const body = feedbackBody();
    const res = await call('POST', FEEDBACK, body, `Bearer ${token}`);
    expect(res.status).toBe(200);
    expect((await feedbackStore.list()).map((r) => r.feedback.card)).toContain(body.feedback[0].card);
  });

  it('an RS384 token from the same issuer is accepted too', async () => {
    const token = await clientToken({ iss: ISSUER, aud: url(SIGN), key: 'rsa-2048' });
    expect((await signCall(`Bearer ${token}`)).status).toBe(200);
  });
});

describe('a token that fails one check: 401, one log line naming the check', () => {
  const now = nowSeconds;

  /** alg none: a JWS with an empty signature, built by hand since jose will not sign one. */
  function unsignedToken(header: Record<string, unknown>): string {
    const payload = { iss: ISSUER, aud: url(SIGN), iat: now(), exp: now() + 300, jti: randomUUID() };
    const encode = (value: object) => base64url.encode(JSON.stringify(value));
    return `${encode(header)}.${encode(payload)}.`;
  }

  const cases: { name: string; check: string; token: () => Promise<string> }[] = [
    {
      name: 'aud names another service',
      check: 'aud',
      token: () => clientToken({ iss: ISSUER, aud: url('/cds-services/intrathecal-pump-order-select') }),
    },
    {
      name: 'aud names another host',
      check: 'aud',
      token: () => clientToken({ iss: ISSUER, aud: `https://cds.elsewhere.test${SIGN}` }),
    },
    {
      name: 'expired (beyond the clock skew)',
      check: 'exp',
      token: () => clientToken({ iss: ISSUER, aud: url(SIGN), claims: { iat: now() - 600, exp: now() - 120 } }),
    },
    {
      name: 'iat in the future (beyond the clock skew)',
      check: 'iat',
      token: () => clientToken({ iss: ISSUER, aud: url(SIGN), claims: { iat: now() + 600, exp: now() + 900 } }),
    },
    {
      name: 'unknown iss',
      check: 'iss',
      token: () => clientToken({ iss: 'https://ehr.unknown.test', aud: url(SIGN) }),
    },
    {
      name: 'alg HS256 (a shared secret)',
      check: 'alg',
      token: () =>
        new SignJWT({ iss: ISSUER, aud: url(SIGN), iat: now(), exp: now() + 300, jti: randomUUID() })
          .setProtectedHeader({ alg: 'HS256', kid: 'test-ec-p384', typ: 'JWT' })
          .sign(new TextEncoder().encode('a-shared-secret-of-at-least-32-bytes!!')),
    },
    {
      name: 'alg none',
      check: 'alg',
      token: async () => unsignedToken({ alg: 'none', kid: 'test-ec-p384', typ: 'JWT' }),
    },
    {
      name: 'missing kid',
      check: 'kid',
      token: () => clientToken({ iss: ISSUER, aud: url(SIGN), header: { kid: undefined } }),
    },
    {
      name: 'signed by another key under the trusted kid',
      check: 'signature',
      token: () => clientToken({ iss: ISSUER, aud: url(SIGN), key: 'impostor-ec-p384' }),
    },
  ];

  it.each(cases)('$name -> $check', async ({ check, token }) => {
    const jwt = await token();
    await expectRefused(await signCall(`Bearer ${jwt}`), check, jwt);
  });

  it('a replayed jti: the first call passes, the second is refused as a replay', async () => {
    const jwt = await clientToken({ iss: ISSUER, aud: url(SIGN) });
    expect((await signCall(`Bearer ${jwt}`)).status).toBe(200);
    logger.clear();
    await expectRefused(await signCall(`Bearer ${jwt}`), 'replay', jwt);
  });

  it('a token for discovery cannot be used for a hook call, even unused', async () => {
    const jwt = await clientToken({ iss: ISSUER, aud: url(DISCOVERY) });
    await expectRefused(await signCall(`Bearer ${jwt}`), 'aud', jwt);
  });
});
