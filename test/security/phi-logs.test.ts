/**
 * No PHI, access token or JWT in anything the service logs, on every path: a hook call with cards
 * (real engine, part of the record fetched with the access token), refusals (400), data that cannot
 * be fetched (412), client authentication failures (401) and an unexpected failure (500). The
 * request is full of recognisable synthetic PHI; every log line at every level is captured, and so
 * is anything written to stdout, stderr or the console meanwhile.
 */
import { outcome } from '../support/operation-outcome';
import { base64url } from 'jose';
import type { Resource } from 'fhir/r4';
import { createApp } from '../../src/app';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEngine } from '../../src/engine/types';
import { loadSecurityConfig } from '../../src/security/config';
import { SIGN, testConfig } from '../cds-hooks/helpers';
import { fixtureCall, patientRecord } from './support/fixture-requests';
import { capturingLogger, listen, type ListeningApp } from './support/http';
import { searchset, sendJson, serveRecord, startScriptedServer, type ScriptedServer } from './support/scripted-server';
import { clientToken, trustedIssuers } from './support/tokens';

// Recognisable synthetic PHI (no real person): a name, an odd birth date, an MRN, a phone number,
// an address, a patient id; and the credentials a caller hands over.
const GIVEN = 'Zebulon';
const FAMILY = 'Quixotic';
const BIRTH_DATE = '1931-07-19';
const MRN = 'MRN-77341-QX';
const PHONE = '+1-555-0147-8823';
const STREET = '42 Wobblegate Lane';
const PATIENT_ID = 'zq77341';
const ACCESS_TOKEN = 'phi-test-access-token-Yq7Lw2Rt9Xk';
const JWT_LOOKING = [
  base64url.encode(JSON.stringify({ alg: 'ES384', typ: 'JWT', kid: 'phi-kid' })),
  base64url.encode(JSON.stringify({ sub: `${GIVEN} ${FAMILY}`, mrn: MRN })),
  'c2lnbmF0dXJlLW9mLXplYnVsb24tcXVpeG90aWM',
].join('.');

const FORBIDDEN = [GIVEN, FAMILY, `${GIVEN} ${FAMILY}`, BIRTH_DATE, MRN, PHONE, STREET, PATIENT_ID, ACCESS_TOKEN, JWT_LOOKING, ...JWT_LOOKING.split('.')];

/** The fixture patient of cnmp-trial-met, renamed and dressed up with the PHI above. */
function phiRecord(): Resource[] {
  const text = JSON.stringify(patientRecord('itp-cnmp-trial-met')).replaceAll('itp-cnmp-trial-met', PATIENT_ID);
  const record = JSON.parse(text) as Resource[];
  const patient = record.find((r) => r.resourceType === 'Patient')!;
  Object.assign(patient, {
    name: [{ use: 'official', given: [GIVEN], family: FAMILY, text: `${GIVEN} ${FAMILY}` }],
    birthDate: BIRTH_DATE,
    identifier: [{ system: 'urn:oid:2.16.840.1.113883.19.5', value: MRN, type: { text: 'MRN' } }],
    telecom: [{ system: 'phone', value: PHONE, use: 'home' }],
    address: [{ line: [STREET], city: 'Testville', postalCode: '00000' }],
  });
  for (const r of record) {
    if (r.resourceType === 'Condition' || r.resourceType === 'Observation') {
      (r as { note?: unknown }).note = [{ text: `${GIVEN} ${FAMILY} (${MRN}) reports pain; call ${PHONE}` }];
    }
    if (r.resourceType === 'Coverage') Object.assign(r, { subscriberId: MRN, subscriber: { display: `${GIVEN} ${FAMILY}` } });
  }
  return record;
}

const record = phiRecord();
const fhirAuthorization = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: PATIENT_ID };

/** cnmp-trial-met for the PHI patient; the coverage key is left out, so it is fetched with the token. */
function phiRequest(fhirServer: string): Record<string, any> {
  const { body } = fixtureCall('cnmp-trial-met');
  const text = JSON.stringify(body).replaceAll('itp-cnmp-trial-met', PATIENT_ID);
  const request = JSON.parse(text) as Record<string, any>;
  const byType = (type: string) => record.filter((r) => r.resourceType === type);
  request.prefetch = {
    patient: record.find((r) => r.resourceType === 'Patient'),
    conditions: searchset(byType('Condition')),
    procedures: searchset(byType('Procedure')),
    observations: searchset(byType('Observation')),
    medicationRequests: searchset(byType('MedicationRequest')),
    medicationStatements: searchset([]),
    allergies: searchset([]),
  };
  request.fhirServer = fhirServer;
  request.fhirAuthorization = { ...fhirAuthorization };
  return request;
}

/** Whatever is written to stdout, stderr or the console while `run` runs. */
async function capturingOutput(run: () => Promise<void>): Promise<string> {
  const written: string[] = [];
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => (written.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => (written.push(String(chunk)), true)),
    ...(['log', 'info', 'warn', 'error', 'debug', 'trace'] as const).map((name) =>
      jest.spyOn(console, name).mockImplementation((...args: unknown[]) => void written.push(args.map(String).join(' '))),
    ),
  ];
  try {
    await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.join('\n');
}

function expectNoPhi(text: string): void {
  const found = FORBIDDEN.filter((secret) => text.toLowerCase().includes(secret.toLowerCase()));
  expect(found).toEqual([]);
}

const logger = capturingLogger('trace');
let engine: PolicyEngine;
let ehr: ScriptedServer;

beforeAll(async () => {
  engine = await loadPolicyEngine();
  ehr = await startScriptedServer(serveRecord(record));
});

afterAll(() => ehr.close());

beforeEach(() => {
  logger.clear();
  ehr.script = serveRecord(record);
  ehr.hits.length = 0;
});

async function post(service: ListeningApp, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${service.baseUrl}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  return { status: res.status, body: await res.text() };
}

describe('trust off', () => {
  let service: ListeningApp;

  beforeAll(async () => {
    const security = loadSecurityConfig(
      { CDS_FHIR_ALLOWLIST: ehr.baseUrl, CDS_RATE_LIMIT_PER_MINUTE: '0' },
      { trustClients: false, sandboxFhirPort: 8080 },
    );
    // The wrapper fails with PHI in its error for one marked order, else hands over to the real engine.
    const failing: PolicyEngine = {
      orderPhase: (order, options) => engine.orderPhase(order, options),
      prepareRecord: (data, drafts) => engine.prepareRecord(data, drafts),
      evaluateOrder: (data, order, options) => {
        if (order.id?.endsWith('-boom')) throw new Error(`cannot evaluate ${GIVEN} ${FAMILY}\n${MRN} born ${BIRTH_DATE}, phone ${PHONE}`);
        return engine.evaluateOrder(data, order, options);
      },
    };
    service = await listen(createApp({ engine: failing, config: testConfig(), security, logger }));
  });

  afterAll(() => service.close());

  /** Everything a caller could add around the body: PHI in the query, a JWT-looking header, a PHI request id. */
  const phiHeaders = { Authorization: `Bearer ${JWT_LOOKING}`, 'X-Request-Id': `${GIVEN} ${FAMILY}` };
  const phiPath = `${SIGN}?name=${encodeURIComponent(`${GIVEN} ${FAMILY}`)}&mrn=${MRN}`;

  it('a hook call with cards, part of the record fetched with the access token, logs none of it', async () => {
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, phiPath, JSON.stringify({ ...phiRequest(ehr.baseUrl), hookInstance: MRN }), phiHeaders);
    });
    expect(res!.status).toBe(200);
    expect(JSON.parse(res!.body).cards).toHaveLength(1);
    // The fetch happened, with the token: the path that could leak it ran.
    expect(ehr.hits.map((hit) => hit.authorization)).toEqual([`Bearer ${ACCESS_TOKEN}`]);
    expect(logger.lines()).toContainEqual(expect.objectContaining({ msg: 'request', status: 200, hookInstance: 'invalid' }));
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });

  it.each([
    ['an invalid patientId', (body: Record<string, any>) => (body.context.patientId = `${GIVEN} ${FAMILY}`)],
    ['a fhirServer outside the allowlist', (body: Record<string, any>) => (body.fhirServer = `http://127.0.0.1:9/${MRN}`)],
    ['fhirAuthorization without a token type', (body: Record<string, any>) => delete body.fhirAuthorization.token_type],
  ])('a 400 for %s logs none of it', async (_what, mutate) => {
    const body = phiRequest(ehr.baseUrl);
    mutate(body);
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, phiPath, JSON.stringify(body), phiHeaders);
    });
    expect(res!.status).toBe(400);
    expect(logger.lines()).toContainEqual(expect.objectContaining({ msg: 'request', status: 400 }));
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });

  it('a 400 for a body that is not JSON logs none of it', async () => {
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, phiPath, JSON.stringify(phiRequest(ehr.baseUrl)).slice(0, -40), phiHeaders);
    });
    expect(res!.status).toBe(400);
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });

  it('a 412 from a FHIR server that fails with PHI in its answer logs none of it', async () => {
    ehr.script = (_req, res) =>
      sendJson(res, 500, {
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'exception', diagnostics: `lookup failed for ${GIVEN} ${FAMILY} ${MRN} ${ACCESS_TOKEN}` }],
      });
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, phiPath, JSON.stringify(phiRequest(ehr.baseUrl)), phiHeaders);
    });
    expect(res!.status).toBe(412);
    expectNoPhi(res!.body);
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });

  it('a 500 from an error whose message holds PHI (over two lines) logs none of it', async () => {
    const body = phiRequest(ehr.baseUrl);
    body.context.draftOrders.entry[0].resource.id = `${PATIENT_ID}-boom`;
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, phiPath, JSON.stringify(body), phiHeaders);
    });
    expect(res!.status).toBe(500);
    expect(JSON.parse(res!.body)).toEqual(outcome('internal-error', 'the service failed to handle this request'));
    // The failure is logged (with the request id), only without its message.
    expect(logger.lines()).toContainEqual(expect.objectContaining({ level: 'error', msg: 'unexpected error', requestId: expect.any(String) }));
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });
});

describe('trust on', () => {
  const ISSUER = 'https://ehr.phi-logs.test';
  let service: ListeningApp;

  beforeAll(async () => {
    const security = loadSecurityConfig(
      {
        CDS_TRUST_CLIENTS: 'true',
        CDS_TRUSTED_ISSUERS: trustedIssuers([{ iss: ISSUER, fhirServers: [ehr.baseUrl] }]),
        CDS_RATE_LIMIT_PER_MINUTE: '0',
      },
      { trustClients: true, sandboxFhirPort: 8080 },
    );
    service = await listen((baseUrl: string) => createApp({ engine, config: testConfig({ publicBaseUrl: baseUrl }), security, logger }));
  });

  afterAll(() => service.close());

  it('a 401 for a JWT-looking string that is no valid token logs none of it', async () => {
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, SIGN, JSON.stringify(phiRequest(ehr.baseUrl)), { Authorization: `Bearer ${JWT_LOOKING}` });
    });
    expect(res!.status).toBe(401);
    expect(logger.lines()).toContainEqual(expect.objectContaining({ msg: 'client authentication failed' }));
    expectNoPhi(logger.raw.join('\n'));
    expectNoPhi(output);
  });

  it('an accepted call logs neither the client JWT nor the PHI', async () => {
    const jwt = await clientToken({ iss: ISSUER, aud: `${service.baseUrl}${SIGN}` });
    let res: { status: number; body: string } | undefined;
    const output = await capturingOutput(async () => {
      res = await post(service, SIGN, JSON.stringify(phiRequest(ehr.baseUrl)), { Authorization: `Bearer ${jwt}` });
    });
    expect(res!.status).toBe(200);
    const logged = logger.raw.join('\n');
    for (const part of [jwt, ...jwt.split('.')]) expect(logged).not.toContain(part);
    expectNoPhi(logged);
    expectNoPhi(output);
  });
});
