/** Bad hook requests: one test per field, each a 400 naming it; plus 404, 413 and malformed JSON. */
import { outcome, messageOf } from '../support/operation-outcome';
import request from 'supertest';
import { draftBundle, everyOrderGoverned, unreadRecord, makeApp, RecordingEngine, selectRequest, serviceRequest, SELECT, SIGN, signRequest, testConfig } from './helpers';

const engine = new RecordingEngine();
const app = makeApp(engine);
afterAll(() => app.closeResources());

const auth = { access_token: 'opaque-token', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds-service' };

function withoutContext(field: string): Record<string, unknown> {
  const body = signRequest();
  delete (body.context as Record<string, unknown>)[field];
  return body;
}

const cases: [string, string, Record<string, unknown>, RegExp][] = [
  ['hook missing', SIGN, (() => { const b = signRequest(); delete b.hook; return b; })(), /^hook is required$/],
  ['hook of the other service', SIGN, signRequest({ hook: 'order-select' }), /^hook must be "order-sign"/],
  ['hookInstance missing', SIGN, (() => { const b = signRequest(); delete b.hookInstance; return b; })(), /^hookInstance is required$/],
  ['hookInstance empty', SIGN, signRequest({ hookInstance: '' }), /^hookInstance must be a non-empty string$/],
  ['context missing', SIGN, signRequest({ context: undefined }), /^context is required$/],
  ['context.userId missing', SIGN, withoutContext('userId'), /^context\.userId is required$/],
  ['context.userId not a reference', SIGN, signRequest({}, { userId: 'dr smith' }), /^context\.userId must be a "Type\/id" reference$/],
  ['context.patientId missing', SIGN, withoutContext('patientId'), /^context\.patientId is required$/],
  ['context.patientId with query syntax', SIGN, signRequest({}, { patientId: 'p1&_id=x' }), /^context\.patientId must be a FHIR id/],
  ['context.patientId "." (Patient/. is the FHIR base)', SIGN, signRequest({}, { patientId: '.' }), /^context\.patientId must be a FHIR id/],
  ['context.patientId ".." (Patient/.. reads the server root)', SIGN, signRequest({}, { patientId: '..' }), /^context\.patientId must be a FHIR id/],
  ['context.encounterId ".."', SIGN, signRequest({}, { encounterId: '..' }), /^context\.encounterId must be a FHIR id/],
  ['context.userId "Practitioner/.."', SIGN, signRequest({}, { userId: 'Practitioner/..' }), /^context\.userId must be a "Type\/id" reference/],
  ['context.draftOrders missing', SIGN, withoutContext('draftOrders'), /^context\.draftOrders is required$/],
  ['context.draftOrders not a Bundle', SIGN, signRequest({}, { draftOrders: { resourceType: 'List' } }), /^context\.draftOrders must be a FHIR Bundle$/],
  ['context.draftOrders.entry not an array', SIGN, signRequest({}, { draftOrders: { resourceType: 'Bundle', entry: {} } }), /^context\.draftOrders\.entry must be an array$/],
  [
    'context.draftOrders entry without resourceType',
    SIGN,
    signRequest({}, { draftOrders: { resourceType: 'Bundle', entry: [{ resource: { id: 'x' } }] } }),
    /^context\.draftOrders\.entry\[0\]\.resource\.resourceType is required$/,
  ],
  ['context.selections missing on order-select', SELECT, selectRequest(undefined, draftBundle(serviceRequest('pump-1'))), /^context\.selections is required for order-select$/],
  ['context.selections not an array', SELECT, selectRequest('ServiceRequest/pump-1', draftBundle(serviceRequest('pump-1'))), /^context\.selections must be an array/],
  ['context.selections item not a reference', SELECT, selectRequest(['pump-1'], draftBundle(serviceRequest('pump-1'))), /^context\.selections\[0\] must be a "Type\/id" reference$/],
  [
    'context.selections item not among draftOrders',
    SELECT,
    selectRequest(['ServiceRequest/pump-1', 'ServiceRequest/other'], draftBundle(serviceRequest('pump-1'))),
    /^context\.selections\[1\] \(ServiceRequest\/other\) is not in context\.draftOrders$/,
  ],
  ['fhirServer missing while fhirAuthorization is present', SIGN, signRequest({ fhirAuthorization: auth }), /^fhirServer is required when fhirAuthorization is present$/],
  ['fhirServer relative', SIGN, signRequest({ fhirServer: '/fhir', fhirAuthorization: auth }), /^fhirServer must be an absolute http\(s\) URL$/],
  ['fhirServer not http(s)', SIGN, signRequest({ fhirServer: 'ftp://ehr.example.org/fhir' }), /^fhirServer must be an absolute http\(s\) URL$/],
  ['fhirAuthorization not an object', SIGN, signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: 'Bearer x' }), /^fhirAuthorization must be an object$/],
  [
    'fhirAuthorization.access_token missing',
    SIGN,
    signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, access_token: undefined } }),
    /^fhirAuthorization\.access_token is required$/,
  ],
  [
    'fhirAuthorization.token_type not Bearer',
    SIGN,
    signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, token_type: 'MAC' } }),
    /^fhirAuthorization\.token_type must be "Bearer"$/,
  ],
  [
    'fhirAuthorization.expires_in not a positive integer',
    SIGN,
    signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, expires_in: '300' } }),
    /^fhirAuthorization\.expires_in must be a positive integer$/,
  ],
  [
    'fhirAuthorization.scope missing',
    SIGN,
    signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, scope: undefined } }),
    /^fhirAuthorization\.scope is required$/,
  ],
  [
    'fhirAuthorization.subject missing',
    SIGN,
    signRequest({ fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, subject: undefined } }),
    /^fhirAuthorization\.subject is required$/,
  ],
  ['prefetch not an object', SIGN, signRequest({ prefetch: [] }), /^prefetch must be an object$/],
  ['prefetch value without resourceType', SIGN, signRequest({ prefetch: { patient: { id: 'x' } } }), /^prefetch\.patient\.resourceType is required$/],
];

describe.each(cases)('%s', (_name, path, body, message) => {
  it('is a 400 naming the field', async () => {
    const res = await request(app).post(path).send(body).expect(400).expect('Content-Type', /json/);
    expect(res.body).toEqual(outcome('invalid-request', expect.stringMatching(message)));
  });
});

describe('the requests around validation', () => {
  it('accepts a draftOrders Bundle without type, as the CDS Hooks sandbox sends it', async () => {
    const draftOrders = { resourceType: 'Bundle', entry: [{ resource: serviceRequest('pump-1') }] };
    const res = await request(app).post(SIGN).send(signRequest({}, { draftOrders })).expect(200);
    expect(res.body.cards).toHaveLength(1);
  });

  it('accepts the application/fhir+json media type', async () => {
    await request(app).post(SIGN).set('Content-Type', 'application/fhir+json').send(JSON.stringify(signRequest())).expect(200);
  });

  it('answers 400 when the body is not JSON at all', async () => {
    const res = await request(app).post(SIGN).set('Content-Type', 'text/plain').send('hello').expect(400);
    expect(messageOf(res.body)).toMatch(/request body must be a JSON object/);
  });

  it('answers 404 for an unknown service, before looking at the body', async () => {
    const res = await request(app).post('/cds-services/no-such-service').send({}).expect(404);
    expect(res.body).toEqual(outcome('not-found', 'unknown CDS service "no-such-service"'));
  });

  it('answers 400 for malformed JSON without a stack trace', async () => {
    const res = await request(app).post(SIGN).set('Content-Type', 'application/json').send('{"hook": "order-sign",').expect(400);
    expect(res.body).toEqual(outcome('invalid-request', 'request body is not valid JSON'));
    expect(res.text).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('answers 413 for a body over the configured limit', async () => {
    const small = makeApp(engine, { config: testConfig({ maxBodyBytes: 2048 }) });
    try {
      const body = signRequest({ padding: 'x'.repeat(4096) });
      const res = await request(small).post(SIGN).send(body).expect(413);
      expect(res.body).toEqual(outcome('payload-too-large', expect.any(String)));
    } finally {
      await small.closeResources();
    }
  });

  it('accepts a 4 MiB body (a large real patient prefetch) and answers 413 over the default 8 MiB limit', async () => {
    await request(app).post(SIGN).send(signRequest({ padding: 'x'.repeat(4 * 1024 * 1024) })).expect(200);
    await request(app).post(SIGN).send(signRequest({ padding: 'x'.repeat(8 * 1024 * 1024) })).expect(413);
  });
});

describe('unexpected failures', () => {
  it('answer 500 with a generic message and no details', async () => {
    const broken = makeApp({
      orderPhase: everyOrderGoverned,
      prepareRecord: unreadRecord,
      evaluateOrder: async () => {
        throw new Error('secret internal detail /srv/app/engine.js:12');
      },
    });
    try {
      const res = await request(broken).post(SIGN).send(signRequest()).expect(500);
      expect(res.body).toEqual(outcome('internal-error', 'the service failed to handle this request'));
      expect(res.text).not.toContain('secret');
    } finally {
      await broken.closeResources();
    }
  });
});
