/** Discovery, the policy page, CORS and unknown routes. */
import { outcome } from '../support/operation-outcome';
import request from 'supertest';
import { makeApp, RecordingEngine } from './helpers';

const app = makeApp(new RecordingEngine());
afterAll(() => app.closeResources());

const OBSERVATION_CODES = [
  'http://loinc.org|72514-3',
  'http://loinc.org|38208-5',
  'http://snomed.info/sct|765771006',
  'http://intrathecal-cds.example.org/fhir/CodeSystem/spasticity-scales|penn-spasm-frequency',
  'http://snomed.info/sct|273302005',
  'http://snomed.info/sct|273469003',
  'http://loinc.org|10158-4',
  'http://loinc.org|60956-0',
  'http://snomed.info/sct|250844005',
  'http://loinc.org|75328-5',
  'http://loinc.org|44249-1',
  'http://loinc.org|69737-5',
  'http://loinc.org|72109-2',
  'http://loinc.org|82667-7',
  'http://hl7.org/fhir/sid/icd-10-cm|Z53.09',
  'http://hl7.org/fhir/sid/icd-10-cm|Z53.1',
  'http://hl7.org/fhir/sid/icd-10-cm|Z53.20',
  'http://hl7.org/fhir/sid/icd-10-cm|Z53.29',
  'http://snomed.info/sct|183932001',
  'http://snomed.info/sct|183944003',
];

describe('GET /cds-services', () => {
  it('lists the order-select and order-sign services with title, description and prefetch', async () => {
    const res = await request(app).get('/cds-services').expect(200).expect('Content-Type', /application\/json/);
    const services = res.body.services as Record<string, any>[];
    expect(services.map((s) => [s.id, s.hook]).sort()).toEqual([
      ['intrathecal-pump-order-select', 'order-select'],
      ['intrathecal-pump-order-sign', 'order-sign'],
    ]);
    for (const service of services) {
      expect(service.title).toEqual(expect.any(String));
      expect(service.description).toMatch(/2022T0626C/);
      expect(service.prefetch.patient).toBe('Patient/{{context.patientId}}');
      for (const [type, key] of [
        ['Condition', 'conditions'],
        ['Procedure', 'procedures'],
        ['MedicationRequest', 'medicationRequests'],
        ['MedicationStatement', 'medicationStatements'],
        ['AllergyIntolerance', 'allergies'],
      ]) {
        expect(service.prefetch[key]).toBe(`${type}?patient={{context.patientId}}`);
      }
      expect(service.prefetch.coverage).toBe('Coverage?patient={{context.patientId}}&status=active');
    }
  });

  it('narrows the Observation prefetch to exactly the codes the criteria read', async () => {
    const res = await request(app).get('/cds-services').expect(200);
    for (const service of res.body.services) {
      const template: string = service.prefetch.observations;
      expect(template.startsWith('Observation?patient={{context.patientId}}&code=')).toBe(true);
      const codes = template.slice(template.indexOf('&code=') + 6).split(',');
      expect(codes.sort()).toEqual([...OBSERVATION_CODES].sort());
    }
  });
});

describe('GET /policy/2022T0626C', () => {
  it('explains the checks as an HTML page naming the source policy and every criterion id', async () => {
    const res = await request(app).get('/policy/2022T0626C').expect(200).expect('Content-Type', /text\/html/);
    expect(res.text).toContain('2022T0626C');
    expect(res.text).toContain('Implanted Spinal Drug Delivery Systems');
    expect(res.text).toContain('2022-05-01');
    expect(res.text).toContain('InterQual');
    for (const id of [
      'age-18',
      'cnmp-etiology',
      'cnmp-no-further-treatment',
      'cnmp-conservative-6mo',
      'cnmp-conservative-failure',
      'cnmp-psych-clearance',
      'trial-completed',
      'cnmp-trial-pain-reduction-50',
      'metastases-documented',
      'icp-documented',
      'life-expectancy-documented',
      'prior-treatments-documented',
      'trial-pain-reduction-documented',
      'spasticity-function-documented',
      'spasticity-scale-documented',
      'psych-history-documented',
      'spasticity-scale-reduction',
    ]) {
      expect(res.text).toContain(`<code>${id}</code>`);
    }
  });
});

describe('CORS', () => {
  it('answers a preflight from any origin allowing Authorization and Content-Type on GET, POST, OPTIONS', async () => {
    const res = await request(app)
      .options('/cds-services/intrathecal-pump-order-sign')
      .set('Origin', 'https://sandbox.cds-hooks.org')
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'authorization,content-type')
      .expect(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST, OPTIONS');
    expect(res.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
  });

  it('marks ordinary responses readable from any origin', async () => {
    const res = await request(app).get('/cds-services').set('Origin', 'https://ehr.example.org').expect(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
  });
});

describe('unknown routes', () => {
  it('answers 404 as JSON', async () => {
    const res = await request(app).get('/nothing-here').expect(404).expect('Content-Type', /json/);
    expect(res.body).toEqual(outcome('not-found', expect.stringContaining('/nothing-here')));
  });

  it('gives every response a request id', async () => {
    const res = await request(app).get('/cds-services');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
