import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';
import { importJWK, SignJWT, type JWK } from 'jose';
import request from 'supertest';
import { createClientAuth } from '../security/client-auth';
import { loadSecurityConfig } from '../security/config';
import { createLogger } from './logger';
import { annotateHookCall, createRequestLogging, getRequestId, getRequestLogger } from './request-log';

function capture() {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const HOOK_INSTANCE = 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea';

function hookApp() {
  const log = capture();
  const app = express();
  app.use(createRequestLogging(log.logger));
  app.use(express.json());
  app.post('/cds-services/:id', (req, res) => {
    annotateHookCall(res, {
      service: req.params.id,
      hookInstance: req.body.hookInstance,
      cards: 1,
      criteria: [{ status: 'met' }, { status: 'met' }, { status: 'not-documented' }, { status: 'not-met' }],
      outcome: 'cards',
    });
    res.json({ cards: [], requestId: getRequestId(res) });
  });
  app.get('/fail', (_req, res) => {
    res.status(500).json({ error: 'internal' });
  });
  return { app, ...log };
}

describe('createRequestLogging', () => {
  it('logs one line per request with id, method, route pattern, status, duration and the hook summary', async () => {
    const { app, parsed } = hookApp();
    const response = await request(app)
      .post('/cds-services/pump-order-sign?verbose=1')
      .set('X-Request-Id', 'ehr-trace.0001')
      .send({ hookInstance: HOOK_INSTANCE });
    expect(response.headers['x-request-id']).toBe('ehr-trace.0001');
    expect(response.body.requestId).toBe('ehr-trace.0001');
    expect(parsed()).toEqual([
      {
        level: 30,
        time: expect.any(String),
        msg: 'request',
        requestId: 'ehr-trace.0001',
        method: 'POST',
        route: '/cds-services/:id',
        status: 200,
        durationMs: expect.any(Number),
        service: 'pump-order-sign',
        hookInstance: HOOK_INSTANCE,
        cards: 1,
        criteria: { met: 2, 'not-documented': 1, 'not-met': 1 },
        outcome: 'cards',
      },
    ]);
  });

  it('generates a request id when the caller sends none or an unsafe one, and echoes it', async () => {
    const { app, parsed } = hookApp();
    const none = await request(app).post('/cds-services/pump-order-sign').send({});
    const unsafe = await request(app).post('/cds-services/pump-order-sign').set('X-Request-Id', 'x y <script>').send({});
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(none.headers['x-request-id']).toMatch(uuid);
    expect(unsafe.headers['x-request-id']).toMatch(uuid);
    expect(parsed().map((l) => l.requestId)).toEqual([none.headers['x-request-id'], unsafe.headers['x-request-id']]);
  });

  it('logs a hookInstance that is not a UUID as "invalid"', async () => {
    const { app, parsed } = hookApp();
    await request(app).post('/cds-services/pump-order-sign').send({ hookInstance: 'Jane Doe 1970-01-01' });
    expect(parsed()[0].hookInstance).toBe('invalid');
  });

  it('logs unmatched routes as "unmatched" and raises the level with the status', async () => {
    const { app, parsed } = hookApp();
    await request(app).get('/Patient/some-id');
    await request(app).get('/fail');
    expect(parsed().map((l) => [l.route, l.status, l.level])).toEqual([
      ['unmatched', 404, 40],
      ['/fail', 500, 50],
    ]);
  });

  it('logs a request the client abandoned once, marked aborted', async () => {
    const log = capture();
    const app = express();
    let reached!: () => void;
    const handlerReached = new Promise<void>((resolve) => (reached = resolve));
    app.use(createRequestLogging(log.logger));
    app.get('/slow', () => reached()); // never answers
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const closed = new Promise((resolve) => server.once('close', resolve));
    try {
      const call = httpRequest({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/slow' });
      call.on('error', () => undefined);
      call.end();
      await handlerReached;
      call.destroy();
      await new Promise<void>((resolve) => {
        const poll = () => (log.lines.length > 0 ? resolve() : setImmediate(poll));
        poll();
      });
      expect(log.parsed()).toEqual([expect.objectContaining({ route: '/slow', aborted: true, level: 50 })]);
    } finally {
      server.closeAllConnections();
      server.close();
      await closed;
    }
  });
});

describe('no PHI or credentials in the logs', () => {
  const name = 'Zebediah Quixotewhistle';
  const birthDate = '1948-02-29';
  const mrn = 'MRN-77341902';
  const accessToken = 'at-SECRET-9f8e7d6c5b4a';

  it('keeps a request full of patient data and tokens out of every log line', async () => {
    const key = JSON.parse(readFileSync(join(__dirname, '../../test/keys/ec-p384.private.jwk.json'), 'utf8')) as JWK;
    const jwt = await new SignJWT({ iss: 'https://ehr.example.org', aud: 'https://cds.example.org/cds-services/pump-order-sign', jti: 'x' })
      .setProtectedHeader({ alg: 'ES384', kid: key.kid, typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(await importJWK(key, 'ES384'));
    const body = {
      hook: 'order-sign',
      hookInstance: HOOK_INSTANCE,
      fhirServer: 'http://localhost:8080/fhir',
      fhirAuthorization: { access_token: accessToken, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' },
      context: { patientId: 'p1', userId: 'Practitioner/1' },
      prefetch: {
        patient: {
          resourceType: 'Patient',
          id: 'p1',
          name: [{ text: name, family: 'Quixotewhistle', given: ['Zebediah'] }],
          birthDate,
          identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: mrn }],
        },
      },
    };

    const { app, lines, logger } = hookApp();
    // A handler that logs carelessly: the redaction net still holds the token back.
    app.post('/careless', express.json(), (req, res) => {
      getRequestLogger(res, logger).info({ fhirAuthorization: req.body.fhirAuthorization }, 'careless');
      res.json({});
    });
    // Client trust on, so the JWT is inspected and refused (and that refusal logged).
    const guarded = express.Router();
    guarded.use(
      createClientAuth({
        security: loadSecurityConfig(
          { CDS_TRUSTED_ISSUERS: JSON.stringify([{ iss: 'https://ehr.example.org', jwksFile: join(__dirname, '../../test/keys/client.jwks.json') }]) },
          { trustClients: true, sandboxFhirPort: 8080 },
        ),
        publicBaseUrl: 'https://somewhere-else.example',
        logger,
      }),
    );
    guarded.post('/:id', (_req, res) => {
      res.json({});
    });
    app.use('/guarded', guarded);

    const query = `?name=${encodeURIComponent(name)}&birthdate=${birthDate}&identifier=${mrn}&access_token=${accessToken}`;
    const headers = { Authorization: `Bearer ${jwt}`, 'X-Request-Id': jwt, 'X-Patient': `${name} ${mrn}` };
    await request(app).post(`/cds-services/pump-order-sign${query}`).set(headers).send(body);
    await request(app).post(`/careless${query}`).set(headers).send(body);
    await request(app).post(`/guarded/pump-order-sign${query}`).set(headers).send(body);
    await request(app).get(`/Patient/${mrn}${query}`).set(headers);

    const output = lines.join('\n');
    expect(lines.length).toBeGreaterThanOrEqual(6);
    expect(output).toContain('client authentication failed');
    for (const secret of [name, 'Zebediah', 'Quixotewhistle', birthDate, mrn, accessToken, jwt, jwt.split('.')[1], jwt.split('.')[2]]) {
      expect(output).not.toContain(secret);
    }
  });
});
