/** What the service logs for a hook call: ids, timings and counts; never the body, patient data or tokens. */
import request from 'supertest';
import { createLogger, type Logger } from '../../src/logging/logger';
import { loadSecurityConfig } from '../../src/security/config';
import { trustedIssuers } from '../security/support/tokens';
import { everyOrderGoverned, unreadRecord, makeApp, PATIENT_ID, RecordingEngine, SIGN, signRequest, testConfig } from './helpers';

const LEVELS: Record<number, string> = { 30: 'info', 40: 'warn', 50: 'error' };

/** The app's real logger (redaction included), writing parsed lines into an array. */
function capturingLogger(): Logger & { lines: { level: string; obj: Record<string, unknown>; msg?: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
  const logger = createLogger({
    level: 'info',
    destination: {
      write: (line: string) => {
        const { level, msg, ...obj } = JSON.parse(line);
        lines.push({ level: LEVELS[level] ?? String(level), obj, msg });
      },
    },
  });
  return Object.assign(logger, { lines });
}

const TOKEN = 'secret-access-token-42';
const auth = { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds-service' };

it('logs one line per hook call with request id, service, hookInstance, duration and cards', async () => {
  const logger = capturingLogger();
  const app = makeApp(new RecordingEngine(), { logger });
  try {
    const body = signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: auth });
    const res = await request(app).post(SIGN).set('X-Request-Id', 'req-123').send(body).expect(200);
    expect(logger.lines).toEqual([
      {
        level: 'info',
        msg: 'request',
        obj: expect.objectContaining({
          requestId: 'req-123',
          route: '/cds-services/:id',
          status: 200,
          service: 'intrathecal-pump-order-sign',
          hookInstance: body.hookInstance,
          durationMs: expect.any(Number),
          cards: res.body.cards.length,
          criteria: expect.any(Object),
        }),
      },
    ]);
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain(TOKEN);
    expect(logged).not.toContain(PATIENT_ID);
    expect(logged).not.toContain('1970-03-01');
  } finally {
    await app.closeResources();
  }
});

it('logs an unexpected failure with the request id and without the error message', async () => {
  const logger = capturingLogger();
  const app = makeApp(
    {
      orderPhase: everyOrderGoverned,
      prepareRecord: unreadRecord,
      evaluateOrder: async () => {
        throw new Error(`cannot read birthDate of Patient/${PATIENT_ID}`);
      },
    },
    { logger },
  );
  try {
    await request(app).post(SIGN).set('X-Request-Id', 'req-500').send(signRequest()).expect(500);
    expect(logger.lines).toEqual([
      { level: 'error', msg: 'unexpected error', obj: expect.objectContaining({ requestId: 'req-500', errorName: 'Error' }) },
      { level: 'error', msg: 'request', obj: expect.objectContaining({ requestId: 'req-500', status: 500 }) },
    ]);
    expect(JSON.stringify(logger.lines)).not.toContain(PATIENT_ID);
  } finally {
    await app.closeResources();
  }
});

it('names the route of calls refused before their route ran (client authentication, body parser)', async () => {
  const logger = capturingLogger();
  const security = loadSecurityConfig(
    { CDS_TRUST_CLIENTS: 'true', CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: 'https://ehr.logging.test', fhirServers: [] }]) },
    { trustClients: true, sandboxFhirPort: 8080 },
  );
  const trusted = makeApp(new RecordingEngine(), { logger, security, config: testConfig({ publicBaseUrl: 'https://cds.logging.test' }) });
  const open = makeApp(new RecordingEngine(), { logger });
  try {
    await request(trusted).get('/cds-services').expect(401);
    await request(trusted).post(SIGN).send(signRequest()).expect(401);
    await request(trusted).post(`${SIGN}/feedback?x=1`).send({}).expect(401);
    await request(open).post(SIGN).set('Content-Type', 'application/json').send('{"hook":').expect(400);
    await request(open).get(SIGN).expect(404);
    const requests = logger.lines.filter((l) => l.msg === 'request');
    expect(requests.map((l) => [l.obj.method, l.obj.route, l.obj.status])).toEqual([
      ['GET', '/cds-services', 401],
      ['POST', '/cds-services/:id', 401],
      ['POST', '/cds-services/:id/feedback', 401],
      ['POST', '/cds-services/:id', 400],
      ['GET', 'unmatched', 404],
    ]);
  } finally {
    await trusted.closeResources();
    await open.closeResources();
  }
});
