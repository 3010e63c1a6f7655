/** Discovery, the policy page, CORS and unknown routes. */
import { outcome } from '../support/operation-outcome';
import request from 'supertest';
import { makeApp, RecordingEngine } from './helpers';

const app = makeApp(new RecordingEngine());
afterAll(() => app.closeResources());

// Codes of the pack's observation value sets that the hand-copied prefetch used to leave out (issue 8).
const ONCE_MISSED = ['96761-2', '44261-6', '55757-9', '55758-7', '70274-6', '75626-2', '75624-7'].map((c) => `http://loinc.org|${c}`);

describe('GET /cds-services', () => {
  it('lists the order-select and order-sign services with title, description and the derived prefetch', async () => {
    const res = await request(app).get('/cds-services').expect(200).expect('Content-Type', /application\/json/);
    const services = res.body.services as Record<string, any>[];
    expect(services.map((s) => [s.id, s.hook]).sort()).toEqual([
      ['intrathecal-pump-order-select', 'order-select'],
      ['intrathecal-pump-order-sign', 'order-sign'],
    ]);
    for (const service of services) {
      expect(Object.keys(service).sort()).toEqual(['description', 'extension', 'hook', 'id', 'prefetch', 'title', 'usageRequirements']);
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
        expect(service.prefetch[key]).toBe(`${type}?patient={{context.patientId}}&_count=500`);
      }
      expect(service.prefetch.coverage).toBe('Coverage?patient={{context.patientId}}&status=active&_count=10');
      // The orders being placed arrive in the context; the record's own orders are not read.
      expect(Object.values(service.prefetch).filter((t) => /^(ServiceRequest|DeviceRequest|Medication)\b[/?]/.test(t as string))).toEqual([]);
      for (const template of Object.values(service.prefetch) as string[]) {
        if (template.includes('?')) expect(template).toMatch(/&_count=\d+/);
      }
    }
  });

  it('narrows the Observation prefetch to the codes of the value sets the CQL retrieves, including those once left out', async () => {
    const res = await request(app).get('/cds-services').expect(200);
    for (const service of res.body.services) {
      const template: string = service.prefetch.observations;
      expect(template).toMatch(/^Observation\?patient=\{\{context\.patientId\}\}&code=[^&]+&_count=500$/);
      const codes = template.slice(template.indexOf('&code=') + 6, template.indexOf('&_count')).split(',');
      expect(codes).toEqual(expect.arrayContaining(ONCE_MISSED));
      expect(new Set(codes).size).toBe(codes.length);
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
