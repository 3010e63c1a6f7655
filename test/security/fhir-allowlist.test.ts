/**
 * The fhirServer allowlist (server-side request forgery guard) through the whole app, with the
 * default policy createApp builds from the security configuration: a FHIR server the caller may not
 * name is a 400 naming `fhirServer` and receives no request at all; with trust on, the verified
 * issuer's fhirServers decide, the access token goes to that server only, and neither a redirect nor
 * a next-page link can carry it to another host.
 */
import { outcome, messageOf, errorCodeOf } from '../support/operation-outcome';
import type { Bundle, FhirResource, Resource } from 'fhir/r4';
import request from 'supertest';
import { createApp } from '../../src/app';
import { startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import { silentLogger } from '../../src/cds-hooks/logger';
import { loadSecurityConfig } from '../../src/security/config';
import { PATIENT_ID, RecordingEngine, SIGN, signRequest, testConfig } from '../cds-hooks/helpers';
import { listen, type ListeningApp } from './support/http';
import { searchset, sendJson, serveRecord, startScriptedServer, type ScriptedServer } from './support/scripted-server';
import { clientToken, trustedIssuers } from './support/tokens';

const subject = { reference: `Patient/${PATIENT_ID}` };
const record: Resource[] = [
  { resourceType: 'Patient', id: PATIENT_ID, birthDate: '1970-03-01' } as Resource,
  { resourceType: 'Condition', id: 'allow-cond-1', subject } as Resource,
  { resourceType: 'Coverage', id: 'allow-cov-1', status: 'active', beneficiary: subject, payor: [{ display: 'Payer' }] } as Resource,
];

const ACCESS_TOKEN = 'allowlist-test-access-token-5f1c';
const fhirAuthorization = { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds-service' };

/** A hook call whose whole record must be fetched from `fhirServer`. */
const fetchingRequest = (fhirServer: string, extra: Record<string, unknown> = {}) =>
  signRequest({ prefetch: undefined, fhirServer, fhirAuthorization, ...extra });

/** Counts requests; answers like a FHIR server would, so a hit would not be hidden by an error. */
let outsider: ScriptedServer;

beforeAll(async () => {
  outsider = await startScriptedServer(serveRecord(record));
});

afterAll(() => outsider.close());

describe('trust off: CDS_FHIR_ALLOWLIST', () => {
  let fhir: RunningFhirServer;
  let app: ReturnType<typeof createApp>;
  let engine: RecordingEngine;

  beforeAll(async () => {
    fhir = await startFhirServer({ port: 0 });
    const transaction: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: record.map((resource) => ({
        resource: resource as FhirResource,
        request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
      })),
    };
    const seeded = await fetch(fhir.baseUrl, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(transaction) });
    expect(seeded.status).toBe(200);
    const security = loadSecurityConfig(
      { CDS_FHIR_ALLOWLIST: fhir.baseUrl, CDS_RATE_LIMIT_PER_MINUTE: '0' },
      { trustClients: false, sandboxFhirPort: 8080 },
    );
    engine = new RecordingEngine();
    app = createApp({ engine, config: testConfig(), security, logger: silentLogger });
  });

  afterAll(async () => {
    await app.closeResources();
    await fhir.close();
  });

  beforeEach(() => {
    outsider.hits.length = 0;
    engine.calls.length = 0;
  });

  const refused = (): [string, string][] => {
    const allowed = new URL(fhir.baseUrl);
    return [
      ['another port on the same host', outsider.baseUrl],
      ['a sibling path sharing the prefix', `${allowed.origin}/fhirx`],
      ['a dot segment walking out of the base', `${allowed.origin}/fhir/../admin`],
      ['an encoded slash', `${allowed.origin}/fhir%2F..%2Fadmin`],
      ['a query string', `${fhir.baseUrl}?x=1`],
      ['https instead of the listed http', fhir.baseUrl.replace('http:', 'https:')],
    ];
  };

  it('refuses every fhirServer outside the allowlist with 400 naming fhirServer', async () => {
    for (const [what, fhirServer] of refused()) {
      const res = await request(app).post(SIGN).send(fetchingRequest(fhirServer));
      expect({ what, status: res.status, error: errorCodeOf(res.body) }).toEqual({ what, status: 400, error: 'invalid-request' });
      expect(messageOf(res.body)).toMatch(/^fhirServer\b/);
      expect(messageOf(res.body)).not.toContain(ACCESS_TOKEN);
    }
    expect(outsider.hits).toEqual([]);
    expect(engine.calls).toEqual([]);
  });

  it('refuses an outside fhirServer even when the prefetch is complete and nothing would be fetched', async () => {
    const res = await request(app).post(SIGN).send(signRequest({ fhirServer: outsider.baseUrl, fhirAuthorization }));
    expect(res.status).toBe(400);
    expect(messageOf(res.body)).toMatch(/^fhirServer\b/);
    expect(outsider.hits).toEqual([]);
  });

  it('fetches from the allowed server: 200 with its record', async () => {
    const res = await request(app).post(SIGN).send(fetchingRequest(fhir.baseUrl));
    expect(res.status).toBe(200);
    expect(res.body.cards).toHaveLength(1);
    expect(engine.recordRefs()).toEqual([`Patient/${PATIENT_ID}`, 'Condition/allow-cond-1', 'Coverage/allow-cov-1'].sort());
  });

  it('accepts the allowed base written with a trailing slash', async () => {
    await request(app).post(SIGN).send(fetchingRequest(`${fhir.baseUrl}/`)).expect(200);
    expect(engine.recordRefs()).toContain(`Patient/${PATIENT_ID}`);
  });
});

describe("trust on: the verified issuer's fhirServers", () => {
  const CLIENT = 'https://ehr.allowlist-a.test';
  /** A trusted client registered with no FHIR server: prefetch only. */
  const PREFETCH_ONLY_CLIENT = 'https://ehr.allowlist-b.test';

  let ehr: ScriptedServer;
  let service: ListeningApp;

  beforeAll(async () => {
    ehr = await startScriptedServer(serveRecord(record));
    const security = loadSecurityConfig(
      {
        CDS_TRUST_CLIENTS: 'true',
        CDS_TRUSTED_ISSUERS: trustedIssuers([
          { iss: CLIENT, fhirServers: [ehr.baseUrl] },
          { iss: PREFETCH_ONLY_CLIENT, fhirServers: [] },
        ]),
        // The trust-off allowlist names the outsider: with trust on it must not count.
        CDS_FHIR_ALLOWLIST: outsider.baseUrl,
        CDS_RATE_LIMIT_PER_MINUTE: '0',
      },
      { trustClients: true, sandboxFhirPort: 8080 },
    );
    service = await listen((baseUrl: string) => createApp({ engine: new RecordingEngine(), config: testConfig({ publicBaseUrl: baseUrl }), security, logger: silentLogger }));
  });

  afterAll(async () => {
    await service.close();
    await ehr.close();
  });

  beforeEach(() => {
    outsider.hits.length = 0;
    ehr.hits.length = 0;
    ehr.script = serveRecord(record);
  });

  async function hookCall(iss: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
    const jwt = await clientToken({ iss, aud: `${service.baseUrl}${SIGN}` });
    const res = await fetch(`${service.baseUrl}${SIGN}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${jwt}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  }

  it("fetches from the issuer's server, sending the access token there", async () => {
    const res = await hookCall(CLIENT, fetchingRequest(ehr.baseUrl));
    expect(res.status).toBe(200);
    expect(ehr.hits.length).toBeGreaterThanOrEqual(8);
    expect(ehr.hits.every((hit) => hit.authorization === `Bearer ${ACCESS_TOKEN}`)).toBe(true);
    expect(outsider.hits).toEqual([]);
  });

  it('refuses a server on the trust-off allowlist but not registered for the issuer', async () => {
    const res = await hookCall(CLIENT, fetchingRequest(outsider.baseUrl));
    expect(res.status).toBe(400);
    expect(messageOf(res.body)).toMatch(/^fhirServer\b/);
    expect(outsider.hits).toEqual([]);
  });

  it('refuses any fhirServer from an issuer registered with none, and still answers from prefetch', async () => {
    const refused = await hookCall(PREFETCH_ONLY_CLIENT, fetchingRequest(ehr.baseUrl));
    expect(refused.status).toBe(400);
    expect(messageOf(refused.body)).toMatch(/^fhirServer\b/);
    expect(ehr.hits).toEqual([]);
    const prefetchOnly = await hookCall(PREFETCH_ONLY_CLIENT, signRequest());
    expect(prefetchOnly.status).toBe(200);
    expect(prefetchOnly.body.cards).toHaveLength(1);
  });

  it('does not follow a redirect to another host: 412, and the other host gets no request', async () => {
    ehr.script = (req, res) => {
      res.writeHead(302, { Location: `${outsider.baseUrl}${(req.url ?? '').replace(/^\/fhir/, '')}`, 'Content-Length': 0 });
      res.end();
    };
    const res = await hookCall(CLIENT, fetchingRequest(ehr.baseUrl));
    expect(res.status).toBe(412);
    expect(res.body).toEqual(outcome('prefetch-unavailable', expect.stringContaining('redirected to another server')));
    expect(ehr.hits.length).toBeGreaterThan(0);
    expect(outsider.hits).toEqual([]);
  });

  it('does not follow a next-page link to another host: 412, and the other host gets no request', async () => {
    const serve = serveRecord(record);
    ehr.script = (req, res, server) => {
      if ((req.url ?? '').startsWith('/fhir/Condition?')) {
        return sendJson(res, 200, searchset(record.filter((r) => r.resourceType === 'Condition'), `${outsider.baseUrl}/Condition?page=2`));
      }
      serve(req, res, server);
    };
    const res = await hookCall(CLIENT, fetchingRequest(ehr.baseUrl));
    expect(res.status).toBe(412);
    expect(messageOf(res.body)).toContain('conditions');
    expect(outsider.hits).toEqual([]);
  });
});
