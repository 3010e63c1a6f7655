/**
 * GET /metrics after real traffic: fixture calls with the real policy engine, the record once fetched
 * from the embedded FHIR server over HTTP and once sent as prefetch, a refused call, feedback.
 * Asserts the series an operator reads (share of calls within 5 s, prefetch misses, fetch and
 * evaluation times, criterion statuses, override reasons, errors by status) and that no value
 * from a request (patient, order, hookInstance, free text) becomes a label.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { loadPolicyEngine } from '../../src/engine/engine';
import type { PolicyEvaluation } from '../../src/engine/types';
import { loadPacks } from '../../src/packs/load-packs';

const OVERRIDE_REASONS = loadPacks()[0].manifest.overrideReasons;
import { listBundleFiles, seedFhirServer, startFhirServer, type RunningFhirServer } from '../../src/sandbox/fhir-server';
import { FIXTURES_DIR } from '../support/fixture-table';
import { patientRecord, prefetchFrom } from '../security/support/fixture-requests';
import { makeApp, testConfig } from './helpers';

const SIGN = '/cds-services/intrathecal-pump-order-sign';
const PATIENT = 'itp-cnmp-trial-gaps';
const COMMENT = 'spoke with Dr. Example about Jane Doe';

let fhir: RunningFhirServer;
let app: ReturnType<typeof makeApp>;
let evaluation: PolicyEvaluation;
let cardUuid: string;

function fixtureRequest(): Record<string, any> {
  return JSON.parse(readFileSync(join(FIXTURES_DIR, 'requests', 'cnmp-trial-gaps.json'), 'utf8'));
}

/** Prometheus text format to `name{labels}` -> value (labels in the order prom-client writes them). */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

let text: string;
let samples: Map<string, number>;

beforeAll(async () => {
  const engine = await loadPolicyEngine();
  fhir = await startFhirServer({ port: 0 });
  await seedFhirServer(fhir.baseUrl, listBundleFiles(join(FIXTURES_DIR, 'patients')));
  app = makeApp(engine, { config: testConfig({ metricsToken: 'scrape-secret' }) });

  // 1: no prefetch, everything fetched; 2: everything prefetched, the observations key sent as "no data".
  const fetched = await request(app).post(SIGN).send({ ...fixtureRequest(), fhirServer: fhir.baseUrl }).expect(200);
  const prefetch = { ...prefetchFrom(patientRecord(PATIENT)), observations: null };
  await request(app).post(SIGN).send({ ...fixtureRequest(), fhirServer: undefined, prefetch }).expect(200);
  // 3: refused by validation; 4: an unknown service.
  await request(app).post(SIGN).send({ ...fixtureRequest(), context: 'not-a-context' }).expect(400);
  await request(app).post('/cds-services/no-such-service').send(fixtureRequest()).expect(404);

  evaluation = fetched.body.cards[0].extension['policy-evaluation'];
  cardUuid = fetched.body.cards[0].uuid;
  const offered = OVERRIDE_REASONS[0];
  const at = new Date().toISOString();
  await request(app)
    .post(`${SIGN}/feedback`)
    .send({
      feedback: [
        { card: cardUuid, outcome: 'overridden', outcomeTimestamp: at, overrideReason: { reason: offered } },
        { card: cardUuid, outcome: 'overridden', outcomeTimestamp: at, overrideReason: { reason: { system: 'urn:x', code: PATIENT } } },
        { card: cardUuid, outcome: 'overridden', outcomeTimestamp: at, overrideReason: { userComment: COMMENT } },
        { card: cardUuid, outcome: 'accepted', outcomeTimestamp: at, acceptedSuggestions: [] },
      ],
    })
    .expect(200);

  const scraped = await request(app).get('/metrics').set('Authorization', 'Bearer scrape-secret').expect(200);
  expect(scraped.headers['content-type']).toMatch(/^text\/plain/);
  text = scraped.text;
  samples = parse(text);
}, 120_000);

afterAll(async () => {
  await app?.closeResources();
  await fhir?.close();
});

const value = (series: string) => samples.get(series);

it('refuses a scrape without the configured token', async () => {
  await request(app).get('/metrics').expect(401);
  await request(app).get('/metrics').set('Authorization', 'Bearer wrong').expect(401);
});

it('counts hook calls by service and outcome with a 5 s bucket, so the share within 5 s is readable', () => {
  const service = 'intrathecal-pump-order-sign';
  expect(value(`cds_hook_call_duration_seconds_count{service="${service}",outcome="cards"}`)).toBe(2);
  expect(value(`cds_hook_call_duration_seconds_bucket{le="5",service="${service}",outcome="cards"}`)).toBe(2);
  expect(value(`cds_hook_call_duration_seconds_bucket{le="+Inf",service="${service}",outcome="cards"}`)).toBe(2);
  expect(value(`cds_hook_call_duration_seconds_count{service="${service}",outcome="status-400"}`)).toBe(1);
  // The unknown id is not a label value: the call is counted under service "none".
  expect(value(`cds_hook_call_duration_seconds_count{service="none",outcome="status-404"}`)).toBe(1);
  expect(text).not.toContain('no-such-service');
});

it('counts every response by route pattern and status (errors included)', () => {
  expect(value('cds_http_responses_total{route="/cds-services/:id",method="POST",status="200"}')).toBe(2);
  expect(value('cds_http_responses_total{route="/cds-services/:id",method="POST",status="400"}')).toBe(1);
  expect(value('cds_http_responses_total{route="/cds-services/:id",method="POST",status="404"}')).toBe(1);
  expect(value('cds_http_responses_total{route="/cds-services/:id/feedback",method="POST",status="200"}')).toBe(1);
});

it('counts prefetch hits, empties and misses per key, and times each FHIR fetch', () => {
  const keys = ['patient', 'conditions', 'procedures', 'observations', 'medicationRequests', 'medicationStatements', 'allergies', 'coverage'];
  for (const key of keys) {
    // Call 1 fetched every key; call 2 sent every key, observations as null.
    expect(value(`cds_prefetch_keys_total{key="${key}",result="miss"}`)).toBe(1);
    expect(value(`cds_prefetch_keys_total{key="${key}",result="${key === 'observations' ? 'empty' : 'hit'}"}`)).toBe(1);
    expect(value(`cds_fhir_fetch_duration_seconds_count{key="${key}",outcome="ok"}`)).toBe(1);
    expect(value(`cds_fhir_fetch_duration_seconds_sum{key="${key}",outcome="ok"}`)).toBeGreaterThan(0);
  }
});

it('times evaluations and counts criterion statuses as the cards report them', () => {
  expect(value('cds_evaluation_duration_seconds_count{outcome="ok"}')).toBe(2);
  expect(evaluation.criteria.length).toBeGreaterThan(0);
  for (const c of evaluation.criteria) {
    // Call 1 and call 2 (without observations) may differ; the fetched call's status is counted at least once.
    expect(value(`cds_criterion_results_total{criterion="${c.id}",status="${c.status}"}`)).toBeGreaterThanOrEqual(1);
  }
  const total = [...samples].filter(([k]) => k.startsWith('cds_criterion_results_total{')).reduce((n, [, v]) => n + v, 0);
  expect(total).toBe(2 * evaluation.criteria.length);
});

it('counts feedback outcomes and override reasons, offered codes by name and anything else as other', () => {
  expect(value('cds_feedback_total{service="intrathecal-pump-order-sign",outcome="overridden"}')).toBe(3);
  expect(value('cds_feedback_total{service="intrathecal-pump-order-sign",outcome="accepted"}')).toBe(1);
  expect(value(`cds_override_reasons_total{service="intrathecal-pump-order-sign",reason="${OVERRIDE_REASONS[0].code}"}`)).toBe(1);
  expect(value('cds_override_reasons_total{service="intrathecal-pump-order-sign",reason="other"}')).toBe(1);
  expect(value('cds_override_reasons_total{service="intrathecal-pump-order-sign",reason="comment-only"}')).toBe(1);
});

it('exposes process metrics and carries no request values', () => {
  expect(text).toContain('process_cpu_seconds_total');
  expect(text).toContain('nodejs_eventloop_lag_seconds');
  const request = fixtureRequest();
  for (const leaked of [PATIENT, request.hookInstance, cardUuid, 'itp-cnmp-trial-gaps-sr-1', 'Practitioner/itp-dr-1', COMMENT, 'not-a-context']) {
    expect(text).not.toContain(leaked);
  }
});
