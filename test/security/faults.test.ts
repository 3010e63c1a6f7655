/**
 * A FHIR server that misbehaves, scripted on 127.0.0.1: errors, refusals, bodies that are not FHIR
 * JSON, endless next links, oversized pages, slowness and cut connections. Each ends in a defined
 * answer well within the call deadline: 412 when data the prefetch did not carry cannot be had (CDS
 * Hooks 2.0 "Prefetch": the service answers 412 when it cannot get the FHIR data it needs), 200 when the
 * page cap only stops an endless search. The app stays up: the next ordinary call succeeds.
 */
import { outcome } from '../support/operation-outcome';
import type { ServerResponse } from 'node:http';
import type { Resource } from 'fhir/r4';
import request from 'supertest';
import { createApp } from '../../src/app';
import { loadSecurityConfig } from '../../src/security/config';
import { allowAnyFhirServer, PATIENT_ID, RecordingEngine, SIGN, signRequest, testConfig } from '../cds-hooks/helpers';
import { capturingLogger } from './support/http';
import { resourceTypeOf, searchset, sendJson, serveRecord, startScriptedServer, type Script, type ScriptedServer } from './support/scripted-server';

const config = testConfig({ fhirTimeoutMs: 400, fhirMaxResponseBytes: 16 * 1024, fhirMaxPages: 4, hookDeadlineMs: 2500 });
/** A bound on every answer, not a benchmark: the deadline plus a second for scheduling. */
const ANSWER_BOUND_MS = config.hookDeadlineMs + 1000;

const subject = { reference: `Patient/${PATIENT_ID}` };
const record: Resource[] = [
  { resourceType: 'Patient', id: PATIENT_ID, birthDate: '1970-03-01' } as Resource,
  { resourceType: 'Condition', id: 'fault-cond-1', subject } as Resource,
  { resourceType: 'Coverage', id: 'fault-cov-1', status: 'active', beneficiary: subject, payor: [{ display: 'Payer' }] } as Resource,
];
const recordRefs = record.map((r) => `${r.resourceType}/${r.id}`).sort();
const normal = serveRecord(record);

/** More than the response cap, as valid FHIR: many Conditions with a long note. */
const oversizedBundle = searchset(
  Array.from({ length: 40 }, (_, i) => ({ resourceType: 'Condition', id: `big-${i}`, subject, note: [{ text: 'x'.repeat(1000) }] }) as Resource),
);

const logger = capturingLogger();
const engine = new RecordingEngine();
let fhir: ScriptedServer;
let app: ReturnType<typeof createApp>;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  fhir = await startScriptedServer(normal);
  const security = loadSecurityConfig({ CDS_RATE_LIMIT_PER_MINUTE: '0' }, { trustClients: false, sandboxFhirPort: 8080 });
  app = createApp({ engine, config, security, logger, fhirServerPolicy: allowAnyFhirServer });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await app.closeResources();
  await fhir.close();
});

beforeEach(() => {
  fhir.script = normal;
  fhir.hits.length = 0;
  engine.calls.length = 0;
  logger.clear();
});

/** Applies `fault` to the Condition search only; every other query is answered normally. */
const onConditions =
  (fault: Script): Script =>
  (req, res, server) =>
    resourceTypeOf(req) === 'Condition' ? fault(req, res, server) : normal(req, res, server);

const fetchAll = () => signRequest({ prefetch: undefined, fhirServer: fhir.baseUrl });

async function timedCall(): Promise<{ status: number; body: Record<string, any>; text: string; elapsed: number }> {
  const started = Date.now();
  const res = await request(app).post(SIGN).send(fetchAll());
  return { status: res.status, body: res.body, text: res.text, elapsed: Date.now() - started };
}

/** The app still serves: an ordinary call against a well-behaved server gets 200 with the whole record. */
async function expectStillServing(): Promise<void> {
  fhir.script = normal;
  engine.calls.length = 0;
  const res = await request(app).post(SIGN).send(fetchAll());
  expect(res.status).toBe(200);
  expect(res.body.cards).toHaveLength(1);
  expect(engine.recordRefs()).toEqual(recordRefs);
}

function writeHalf(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(body) });
  res.write(body.slice(0, Math.floor(body.length / 2)));
}

const faults: { name: string; script: Script; message: RegExp }[] = [
  {
    name: 'HTTP 500 on every request',
    script: (_req, res) => sendJson(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] }),
    message: /^could not fetch prefetch \w+ from fhirServer: the FHIR server answered HTTP 500$/,
  },
  {
    name: 'HTTP 500 on one search',
    script: onConditions((_req, res) => sendJson(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception' }] })),
    message: /prefetch conditions .*HTTP 500/,
  },
  {
    name: 'HTTP 401',
    script: (_req, res) => sendJson(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] }),
    message: /refused access \(HTTP 401\)/,
  },
  {
    name: 'invalid JSON',
    script: onConditions((_req, res) => {
      const text = '{"resourceType":"Bundle","type":"searchset","entry":[{"resource":';
      res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    }),
    message: /prefetch conditions .*other than JSON/,
  },
  {
    name: 'HTML instead of JSON',
    script: onConditions((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Sign in</body></html>');
    }),
    message: /prefetch conditions .*other than JSON/,
  },
  {
    name: 'JSON that is not a FHIR resource',
    script: onConditions((_req, res) => sendJson(res, 200, [1, 2, 3])),
    message: /prefetch conditions .*other than a FHIR resource/,
  },
  {
    name: 'an oversized page with Content-Length',
    script: onConditions((_req, res) => sendJson(res, 200, oversizedBundle)),
    message: /prefetch conditions .*larger than allowed/,
  },
  {
    name: 'an oversized page streamed without Content-Length',
    script: onConditions((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
      const text = JSON.stringify(oversizedBundle);
      for (let i = 0; i < text.length; i += 4096) res.write(text.slice(i, i + 4096));
      res.end();
    }),
    message: /prefetch conditions .*larger than allowed/,
  },
  {
    name: 'an oversized second page',
    script: onConditions((req, res) =>
      (req.url ?? '').includes('page=2')
        ? sendJson(res, 200, oversizedBundle)
        : sendJson(res, 200, searchset([record[1]], `${fhir.baseUrl}/Condition?patient=${PATIENT_ID}&page=2`)),
    ),
    message: /prefetch conditions .*larger than allowed/,
  },
  {
    name: 'a server slower than the timeout',
    script: onConditions((req, res, server) => server.later(5000, () => normal(req, res, server))),
    message: /prefetch conditions .*did not answer in time/,
  },
  {
    name: 'headers on time, then the body stalls',
    script: onConditions((_req, res) => writeHalf(res, JSON.stringify(searchset([record[1]])))),
    message: /prefetch conditions .*did not answer in time/,
  },
  {
    name: 'the connection closed before any answer',
    script: onConditions((req) => req.socket.destroy()),
    message: /prefetch conditions .*could not be reached/,
  },
  {
    name: 'the connection closed in the middle of the body',
    script: onConditions((req, res) => {
      writeHalf(res, JSON.stringify(searchset([record[1]])));
      setImmediate(() => req.socket.destroy());
    }),
    message: /prefetch conditions .*could not be reached/,
  },
  {
    name: 'a redirect loop on the same server',
    script: onConditions((req, res) => {
      res.writeHead(302, { Location: `${fhir.baseUrl}/Condition?patient=${PATIENT_ID}&hop=${fhir.hits.length}`, 'Content-Length': 0 });
      res.end();
    }),
    message: /prefetch conditions .*redirected too many times/,
  },
];

describe.each(faults)('FHIR server fault: $name', ({ script, message }) => {
  it('answers 412 naming what could not be fetched, within the deadline, and keeps serving', async () => {
    fhir.script = script;
    const res = await timedCall();
    expect(res.status).toBe(412);
    expect(res.body).toEqual(outcome('prefetch-unavailable', expect.stringMatching(message)));
    expect(res.elapsed).toBeLessThan(ANSWER_BOUND_MS);
    // The answer says what failed, never what the server sent.
    expect(res.text).not.toMatch(/Sign in|exception|big-\d/);
    expect(engine.calls).toEqual([]);
    await expectStillServing();
  });
});

describe('FHIR server fault: a next link that points at the same page forever', () => {
  it('stops at the page cap and answers 200 from what was read, logging the truncated key', async () => {
    fhir.script = onConditions((req, res) => sendJson(res, 200, searchset([record[1]], `${fhir.baseUrl}${(req.url ?? '').replace(/^\/fhir/, '')}`)));
    const res = await timedCall();
    expect(res.status).toBe(200);
    expect(res.elapsed).toBeLessThan(ANSWER_BOUND_MS);
    const conditionHits = fhir.hits.filter((hit) => hit.url.startsWith('/fhir/Condition'));
    expect(conditionHits).toHaveLength(config.fhirMaxPages);
    // The repeated page reaches the evaluator once.
    expect(engine.recordRefs()).toEqual(recordRefs);
    expect(logger.lines()).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'hook call read partial data', truncatedKeys: ['conditions'] }),
    );
    await expectStillServing();
  });
});

describe('after every fault above', () => {
  it('no promise was left rejected without a handler', () => {
    expect(unhandled).toEqual([]);
  });
});
