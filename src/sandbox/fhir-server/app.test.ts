import type { Bundle, CapabilityStatement, Condition, Encounter, FhirResource, Observation, OperationOutcome, Patient } from 'fhir/r4';
import pino from 'pino';
import request from 'supertest';
import { createFhirApp } from './app';
import { startFhirServer, type RunningFhirServer } from './server';

interface FhirReply<T = any> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
}

async function fhirFetch<T = any>(url: string, init: RequestInit = {}): Promise<FhirReply<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
}

function putJson(resource: unknown): RequestInit {
  return { method: 'PUT', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(resource) };
}

function postJson(resource: unknown): RequestInit {
  return { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body: JSON.stringify(resource) };
}

function transaction(resources: FhirResource[]): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } })),
  };
}

function entryIds(bundle: Bundle): string[] {
  return (bundle.entry ?? []).map((e) => e.resource?.id ?? '').sort();
}

const LOINC = 'http://loinc.org';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const CLINICAL = 'http://terminology.hl7.org/CodeSystem/condition-clinical';

function patient(id: string): Patient {
  return { resourceType: 'Patient', id, name: [{ family: 'Synthetic', given: [id] }] };
}

function condition(id: string, patientId: string, status: string, code: string, onset: string): Condition {
  return {
    resourceType: 'Condition',
    id,
    subject: { reference: `Patient/${patientId}` },
    clinicalStatus: { coding: [{ system: CLINICAL, code: status }] },
    code: { coding: [{ system: ICD10, code }] },
    onsetDateTime: onset,
  };
}

function observation(id: string, patientId: string, status: Observation['status'], system: string, code: string, date: string): Observation {
  return {
    resourceType: 'Observation',
    id,
    status,
    subject: { reference: `Patient/${patientId}` },
    code: { coding: [{ system, code }] },
    effectiveDateTime: date,
  };
}

const DATA = transaction([
  patient('pt-1'),
  patient('pt-2'),
  patient('pt-page'),
  condition('cond-active', 'pt-1', 'active', 'G89.4', '2019-03-01'),
  condition('cond-resolved', 'pt-1', 'resolved', 'M54.5', '2015-06-01'),
  condition('cond-pt2', 'pt-2', 'active', 'G89.4', '2020-01-01'),
  observation('obs-a', 'pt-1', 'final', LOINC, '72514-3', '2024-02-01'),
  observation('obs-b', 'pt-1', 'preliminary', LOINC, '8480-6', '2023-05-10'),
  observation('obs-c', 'pt-1', 'final', 'http://snomed.info/sct', '22253000', '2022-01-01'),
  observation('obs-pt2', 'pt-2', 'final', LOINC, '72514-3', '2024-03-01'),
  ...[1, 2, 3, 4, 5, 6, 7].map((n) => observation(`page-${n}`, 'pt-page', 'final', LOINC, '72514-3', `2021-01-0${n}`)),
]);

let server: RunningFhirServer;
let base: string;

beforeAll(async () => {
  server = await startFhirServer({ port: 0 });
  base = server.baseUrl;
  const loaded = await fhirFetch<Bundle>(base, postJson(DATA));
  expect(loaded.status).toBe(200);
});

afterAll(() => server.close());

const search = async (query: string): Promise<Bundle> => {
  const reply = await fhirFetch<Bundle>(`${base}/${query}`);
  expect(reply.status).toBe(200);
  return reply.body;
};

describe('metadata', () => {
  it('answers a CapabilityStatement for FHIR 4.0.1 listing interactions and search parameters', async () => {
    const reply = await fhirFetch<CapabilityStatement>(`${base}/metadata`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const cs = reply.body;
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', status: 'active', kind: 'instance' });
    expect(cs.format).toContain('json');
    const rest = cs.rest![0];
    expect(rest.interaction?.map((i) => i.code)).toEqual(expect.arrayContaining(['transaction', 'batch']));
    const obs = rest.resource!.find((r) => r.type === 'Observation')!;
    expect(obs.interaction?.map((i) => i.code)).toEqual(expect.arrayContaining(['read', 'update', 'search-type', 'create']));
    expect(obs.searchParam?.map((p) => p.name)).toEqual(expect.arrayContaining(['patient', 'subject', 'code', 'date', 'status']));
    // Quantity search is not evaluated by the in-memory matcher, so it is not advertised.
    expect(obs.searchParam?.map((p) => p.name)).not.toContain('value-quantity');
    expect(rest.resource!.find((r) => r.type === 'Condition')!.searchParam?.map((p) => p.name)).toContain('clinical-status');
  });
});

describe('transactions', () => {
  it('resolves urn:uuid references to the ids the server assigns', async () => {
    const patientUrn = 'urn:uuid:6f1c1a52-2a43-4a8e-9a51-0d6f3e1c0a01';
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: patientUrn, resource: { resourceType: 'Patient', active: true }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { text: 'pain score' }, subject: { reference: patientUrn } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    const reply = await fhirFetch<Bundle>(base, postJson(bundle));
    expect(reply.status).toBe(200);
    expect(reply.body.type).toBe('transaction-response');
    const [patientLocation, observationLocation] = reply.body.entry!.map((e) => e.response!.location!);
    expect(patientLocation).toMatch(/^Patient\/[\w-]+$/);
    const stored = await fhirFetch<Observation>(`${base}/${observationLocation}`);
    expect(stored.status).toBe(200);
    expect(stored.body.subject?.reference).toBe(patientLocation);
  });

  it('rejects a bundle with a bad entry as a whole, naming the entry, and writes nothing', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient('tx-never'), request: { method: 'PUT', url: 'Patient/tx-never' } },
        { resource: { resourceType: 'Patient', id: 'other' }, request: { method: 'PUT', url: 'Patient/tx-mismatch' } },
      ],
    };
    const reply = await fhirFetch<OperationOutcome>(base, postJson(bundle));
    expect(reply.status).toBe(400);
    expect(reply.body.resourceType).toBe('OperationOutcome');
    expect(reply.body.issue[0].expression).toEqual(['Bundle.entry[1].resource.id']);
    expect((await fhirFetch(`${base}/Patient/tx-never`)).status).toBe(404);
  });

  it('stores a transaction of 600 PUT entries, far past the 50 updates Medplum allows', async () => {
    const many = transaction(Array.from({ length: 600 }, (_, i) => patient(`many-${i}`)));
    const reply = await fhirFetch<Bundle>(base, postJson(many));
    expect(reply.status).toBe(200);
    expect(reply.body.entry).toHaveLength(600);
    expect((await fhirFetch<Patient>(`${base}/Patient/many-599`)).body.name?.[0]?.given).toEqual(['many-599']);
  });

  it('undoes every write of a transaction when a later entry fails, naming that entry', async () => {
    const kept = await fhirFetch<Patient>(`${base}/Patient/rb-kept`, putJson(patient('rb-kept')));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: patient('rb-new'), request: { method: 'PUT', url: 'Patient/rb-new' } },
        { resource: { ...patient('rb-kept'), active: false }, request: { method: 'PUT', url: 'Patient/rb-kept' } },
        { resource: patient('rb-kept'), request: { method: 'PUT', url: 'Patient/rb-kept', ifMatch: 'W/"not-the-version"' } },
      ],
    };
    const reply = await fhirFetch<OperationOutcome>(base, postJson(bundle));
    expect(reply.status).toBe(412);
    expect(reply.body.issue[0].expression).toEqual(['Bundle.entry[2]']);
    expect((await fhirFetch(`${base}/Patient/rb-new`)).status).toBe(404);
    const after = await fhirFetch<Patient>(`${base}/Patient/rb-kept`);
    expect(after.body.active).toBeUndefined();
    expect(after.headers.get('etag')).toBe(kept.headers.get('etag'));
    const history = await fhirFetch<Bundle>(`${base}/Patient/rb-kept/_history`);
    expect(history.body.entry).toHaveLength(1);
  });

  it('resolves a conditional reference to the one stored resource it matches', async () => {
    const npi = 'http://hl7.org/fhir/sid/us-npi';
    await fhirFetch(`${base}/Practitioner/doc-1`, putJson({ resourceType: 'Practitioner', id: 'doc-1', identifier: [{ system: npi, value: '9999912345' }] }));
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: {
            resourceType: 'Encounter',
            id: 'enc-cond',
            status: 'finished',
            class: { code: 'AMB' },
            participant: [{ individual: { reference: `Practitioner?identifier=${npi}|9999912345` } }],
          },
          request: { method: 'PUT', url: 'Encounter/enc-cond' },
        },
      ],
    };
    expect((await fhirFetch(base, postJson(bundle))).status).toBe(200);
    const stored = await fhirFetch<Encounter>(`${base}/Encounter/enc-cond`);
    expect(stored.body.participant?.[0]?.individual?.reference).toBe('Practitioner/doc-1');
  });

  it('fails a bundle whose conditional reference matches nothing, naming where it is', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Observation', id: 'obs-cond', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient?identifier=urn:x|none' } },
          request: { method: 'PUT', url: 'Observation/obs-cond' },
        },
      ],
    };
    const reply = await fhirFetch<OperationOutcome>(base, postJson(bundle));
    expect(reply.status).toBe(400);
    expect(reply.body.issue[0].expression).toEqual(['Bundle.entry[0].resource.subject.reference']);
    expect((await fhirFetch(`${base}/Observation/obs-cond`)).status).toBe(404);
  });

  it('answers a batch with one response per entry', async () => {
    const batch: Bundle = {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        { resource: patient('batch-1'), request: { method: 'PUT', url: 'Patient/batch-1' } },
        { request: { method: 'GET', url: 'Condition?patient=pt-1&clinical-status=active' } },
      ],
    };
    const reply = await fhirFetch<Bundle>(base, postJson(batch));
    expect(reply.status).toBe(200);
    expect(reply.body.type).toBe('batch-response');
    expect(reply.body.entry![0].response!.status).toBe('200');
    // The search entry gets the same bare-id rewriting as a search over HTTP.
    expect(entryIds(reply.body.entry![1].resource as Bundle)).toEqual(['cond-active']);
  });
});

describe('PUT create-or-update', () => {
  it('creates a resource under the client id (201), then updates it (200)', async () => {
    const created = await fhirFetch<Patient>(`${base}/Patient/put-1`, putJson(patient('put-1')));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toMatch(new RegExp(`^${base}/Patient/put-1/_history/.+`));
    expect(created.headers.get('etag')).toMatch(/^W\/".+"$/);

    const updated = await fhirFetch<Patient>(`${base}/Patient/put-1`, putJson({ ...patient('put-1'), active: false }));
    expect(updated.status).toBe(200);
    expect(updated.headers.get('etag')).not.toBe(created.headers.get('etag'));

    const read = await fhirFetch<Patient>(`${base}/Patient/put-1`);
    expect(read.status).toBe(200);
    expect(read.body.active).toBe(false);
  });

  it('refuses a body whose id or type disagrees with the URL', async () => {
    const wrongId = await fhirFetch<OperationOutcome>(`${base}/Patient/put-2`, putJson(patient('put-3')));
    expect(wrongId.status).toBe(400);
    expect(wrongId.body.issue[0].diagnostics).toContain("'put-3'");
    const wrongType = await fhirFetch<OperationOutcome>(`${base}/Observation/put-2`, putJson(patient('put-2')));
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.issue[0].expression).toEqual(['resourceType']);
  });
});

describe('search', () => {
  it('finds by patient given a bare id or Patient/id, and by subject given a bare id', async () => {
    const expected = ['obs-a', 'obs-b', 'obs-c'];
    expect(entryIds(await search('Observation?patient=pt-1'))).toEqual(expected);
    expect(entryIds(await search('Observation?patient=Patient/pt-1'))).toEqual(expected);
    expect(entryIds(await search('Observation?subject=pt-1'))).toEqual(expected);
    expect(entryIds(await search('Observation?subject:Patient=pt-1'))).toEqual(expected);
  });

  it('matches code by system|code, by code alone, and ORs a comma list', async () => {
    expect(entryIds(await search(`Observation?patient=pt-1&code=${LOINC}|72514-3`))).toEqual(['obs-a']);
    expect(entryIds(await search('Observation?patient=pt-1&code=8480-6'))).toEqual(['obs-b']);
    expect(entryIds(await search(`Observation?patient=pt-1&code=${LOINC}|72514-3,http://snomed.info/sct|22253000`))).toEqual([
      'obs-a',
      'obs-c',
    ]);
    expect(entryIds(await search(`Observation?patient=pt-1&code=http://snomed.info/sct|72514-3`))).toEqual([]);
  });

  it('applies date prefixes', async () => {
    expect(entryIds(await search('Observation?patient=pt-1&date=ge2023-05-10'))).toEqual(['obs-a', 'obs-b']);
    expect(entryIds(await search('Observation?patient=pt-1&date=gt2023-05-10'))).toEqual(['obs-a']);
    expect(entryIds(await search('Observation?patient=pt-1&date=lt2023-05-10'))).toEqual(['obs-c']);
    expect(entryIds(await search('Observation?patient=pt-1&date=le2023'))).toEqual(['obs-b', 'obs-c']);
    expect(entryIds(await search('Observation?patient=pt-1&date=ge2022&date=lt2024'))).toEqual(['obs-b', 'obs-c']);
  });

  it('filters Condition by clinical-status and Observation by status', async () => {
    expect(entryIds(await search('Condition?patient=pt-1&clinical-status=active'))).toEqual(['cond-active']);
    expect(entryIds(await search(`Condition?clinical-status=${CLINICAL}|active`))).toEqual(['cond-active', 'cond-pt2']);
    expect(entryIds(await search('Observation?patient=pt-1&status=final'))).toEqual(['obs-a', 'obs-c']);
    expect(entryIds(await search('Observation?patient=pt-1&status:not=final'))).toEqual(['obs-b']);
  });

  it('sorts with the first _sort key as the primary one', async () => {
    const order = (b: Bundle) => b.entry!.map((e) => e.resource!.id);
    expect(order(await search('Observation?patient=pt-1&_sort=-date'))).toEqual(['obs-a', 'obs-b', 'obs-c']);
    expect(order(await search('Observation?patient=pt-1&_sort=status,date'))).toEqual(['obs-c', 'obs-a', 'obs-b']);
  });

  it('pages with _count and absolute next links until the end', async () => {
    let url: string | undefined = `${base}/Observation?patient=pt-page&_count=3`;
    const pages: string[][] = [];
    while (url) {
      const page: Bundle = (await fhirFetch<Bundle>(url)).body;
      expect(page.total).toBe(7);
      expect(page.link?.find((l) => l.relation === 'self')?.url).toMatch(new RegExp(`^${base}/Observation\\?`));
      pages.push(page.entry!.map((e) => e.resource!.id!));
      url = page.link?.find((l) => l.relation === 'next')?.url;
      if (url) expect(url.startsWith(`${base}/Observation?`)).toBe(true);
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat().sort()).toEqual(['page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6', 'page-7']);
  });

  it('gives each entry an absolute fullUrl', async () => {
    const bundle = await search('Patient?_id=pt-2');
    expect(bundle.entry).toEqual([expect.objectContaining({ fullUrl: `${base}/Patient/pt-2`, search: { mode: 'match' } })]);
  });

  it('answers POST _search with a form body like the same GET', async () => {
    const reply = await fhirFetch<Bundle>(`${base}/Observation/_search`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ patient: 'pt-1', status: 'final' }).toString(),
    });
    expect(reply.status).toBe(200);
    expect(entryIds(reply.body)).toEqual(['obs-a', 'obs-c']);
  });
});

describe('bad requests', () => {
  const expectOutcome = (reply: { status: number; body: OperationOutcome; text: string }, status: number, mention: string) => {
    expect(reply.status).toBe(status);
    expect(reply.body.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(reply.body.issue)).toContain(mention);
    expect(reply.text).not.toMatch(/\n\s+at |\.ts:\d+/);
  };

  it('answers 400 for unknown resource types', async () => {
    expectOutcome(await fhirFetch(`${base}/Foo`), 400, 'Foo');
    expectOutcome(await fhirFetch(`${base}/Foo/1`), 400, 'Foo');
    expectOutcome(await fhirFetch(`${base}/Foo/1`, putJson({ resourceType: 'Foo', id: '1' })), 400, 'Foo');
  });

  it('answers 400 for malformed or unsupported searches, naming the parameter', async () => {
    expectOutcome(await fhirFetch(`${base}/Observation?date=notadate`), 400, 'date');
    expectOutcome(await fhirFetch(`${base}/Observation?_count=abc`), 400, '_count');
    expectOutcome(await fhirFetch(`${base}/Observation?colour=blue`), 400, 'colour');
    expectOutcome(await fhirFetch(`${base}/Observation?value-quantity=5`), 400, 'value-quantity');
    expectOutcome(await fhirFetch(`${base}/Observation?_include=Observation:patient`), 400, '_include');
    expectOutcome(await fhirFetch(`${base}/Observation?code:in=http://example.org/vs`), 400, ':in');
  });

  it('answers 400 for a malformed JSON body and 415 for a non-JSON one', async () => {
    const malformed = { method: 'PUT', headers: { 'Content-Type': 'application/fhir+json' }, body: '{"resourceType": "Patient",' };
    expectOutcome(await fhirFetch(`${base}/Patient/bad-json`, malformed), 400, 'not valid JSON');
    expectOutcome(await fhirFetch(base, { ...malformed, method: 'POST' }), 400, 'not valid JSON');
    expectOutcome(await fhirFetch(`${base}/Patient/bad-json`, { method: 'PUT', body: 'hello' }), 415, 'application/fhir+json');
  });

  it('answers 400 for a URL with broken percent-encoding', async () => {
    expectOutcome(await fhirFetch(`${base}/Patient/%E0%A4%A`), 400, 'URL could not be decoded');
  });

  it('answers 404 with an OperationOutcome for an unknown id', async () => {
    expectOutcome(await fhirFetch(`${base}/Patient/does-not-exist`), 404, 'Patient/does-not-exist');
  });
});

describe('CORS', () => {
  it('answers a preflight allowing Authorization and Content-Type from any origin', async () => {
    const reply = await fetch(`${base}/Observation/_search`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://sandbox.cds-hooks.org',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    expect(reply.status).toBe(204);
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = reply.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
  });

  it('exposes Location and ETag to browser scripts', async () => {
    const reply = await fetch(`${base}/Patient/pt-1`, { headers: { Origin: 'https://sandbox.cds-hooks.org' } });
    expect(reply.headers.get('access-control-allow-origin')).toBe('*');
    expect(reply.headers.get('access-control-expose-headers')).toMatch(/Location.*ETag|ETag.*Location/);
  });
});

describe('logging', () => {
  it('logs method, route shape, status and time, never ids or contents', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const logged = await startFhirServer({ logger });
    try {
      await fhirFetch(`${logged.baseUrl}/Patient/log-secret-id`, putJson({ ...patient('log-secret-id'), name: [{ family: 'Logcheckname' }] }));
      await fhirFetch(`${logged.baseUrl}/Patient/log-secret-id`);
      await fhirFetch(`${logged.baseUrl}/Condition?patient=log-secret-id`);
    } finally {
      await logged.close();
    }
    const entries = lines.map((l) => JSON.parse(l));
    expect(entries.map((e) => [e.method, e.route, e.status])).toEqual([
      ['PUT', 'Patient/:id', 201],
      ['GET', 'Patient/:id', 200],
      ['GET', 'Condition', 200],
    ]);
    expect(entries.every((e) => typeof e.ms === 'number')).toBe(true);
    expect(lines.join('')).not.toMatch(/log-secret-id|Logcheckname/);
  });
});

describe('servers in one process', () => {
  it('keep separate data', async () => {
    const other = await startFhirServer();
    try {
      expect(other.baseUrl).not.toBe(base);
      expect((await fhirFetch(`${other.baseUrl}/Patient/pt-1`)).status).toBe(404);
      expect((await fhirFetch(`${base}/Patient/pt-1`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

describe('createFhirApp', () => {
  it('builds paging links from the Host the client used', async () => {
    const app = createFhirApp();
    await request(app).put('/fhir/Patient/h1').set('Content-Type', 'application/fhir+json').send(JSON.stringify(patient('h1'))).expect(201);
    await request(app).put('/fhir/Patient/h2').set('Content-Type', 'application/fhir+json').send(JSON.stringify(patient('h2'))).expect(201);
    const reply = await request(app).get('/fhir/Patient?_count=1').set('Host', 'fhir.example.test:8080').expect(200);
    const next = (reply.body as Bundle).link?.find((l) => l.relation === 'next')?.url;
    expect(next).toBe('http://fhir.example.test:8080/fhir/Patient?_count=1&_offset=1');
  });
});
