import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Bundle, BundleEntry } from 'fhir/r4';
import { SeedError, listBundleFiles, seedFhirServer, waitForFhirServer } from './seed';
import { startFhirServer, type RunningFhirServer } from './server';
import { closedPort } from '../../../test/support/ports';

const TEST_DATA = path.join(__dirname, 'test-data');
const GOOD_FILES = [path.join(TEST_DATA, 'seed-patient-a.json'), path.join(TEST_DATA, 'seed-patient-b.json')];
/** A real Synthea patient: one transaction of 250 POST entries tied together by urn:uuid references. */
const SYNTHEA = path.join(__dirname, '..', '..', '..', 'fixtures', 'synthea-bench', 'Dusty_Stracke_9fe3de76-2cd4-4c02-936a-8de0b18497dd.json.gz');

let server: RunningFhirServer;
let scratch: string;

beforeAll(async () => {
  server = await startFhirServer();
  scratch = mkdtempSync(path.join(tmpdir(), 'fhir-seed-test-'));
});

afterAll(() => server.close());

function scratchFile(name: string, content: unknown): string {
  const file = path.join(scratch, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

async function seedError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SeedError) return err.message;
    throw err;
  }
  throw new Error('expected seeding to fail');
}

async function get(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

async function total(query: string): Promise<number | undefined> {
  return ((await get(`${server.baseUrl}/${query}`)).body as Bundle).total;
}


describe('listBundleFiles', () => {
  it('lists the *.json files of a folder in name order', () => {
    expect(listBundleFiles(TEST_DATA)).toEqual(GOOD_FILES);
  });

  it('names a folder that is missing', () => {
    expect(() => listBundleFiles(path.join(scratch, 'nope'))).toThrow(/Cannot read the fixtures folder .*nope \(ENOENT\)/);
  });
});

describe('seedFhirServer', () => {
  it('loads each file, reporting its resource count, and loading again changes nothing', async () => {
    const reported: string[] = [];
    const first = await seedFhirServer(server.baseUrl, GOOD_FILES, { onFileLoaded: (r) => reported.push(path.basename(r.file)) });
    expect(first.map((r) => [path.basename(r.file), r.resources])).toEqual([
      ['seed-patient-a.json', 3],
      ['seed-patient-b.json', 2],
    ]);
    expect(reported).toEqual(['seed-patient-a.json', 'seed-patient-b.json']);
    const counts = async () => [
      await total('Patient?name=Synthetic'),
      await total('Condition?patient=seed-a'),
      await total('Procedure?patient=seed-a'),
      await total('Observation?patient=seed-b'),
    ];
    const before = await counts();
    expect(before).toEqual([2, 1, 1, 1]);

    const second = await seedFhirServer(server.baseUrl, GOOD_FILES);
    expect(second.map((r) => r.resources)).toEqual([3, 2]);
    expect(await counts()).toEqual(before);
    // The POST entry with an id was sent as PUT under that id.
    expect((await get(`${server.baseUrl}/Observation/seed-b-pain-score`)).status).toBe(200);
    // urn:uuid references were resolved by the server.
    const pain = await get(`${server.baseUrl}/Condition/seed-a-pain`);
    expect(pain.body.subject.reference).toBe('Patient/seed-a');
  });

  it('loads a bundle after the bundle that holds what it refers to, whatever the file names', async () => {
    const practitionerRef = { reference: 'Practitioner/order-dr' };
    const needsDoctor = scratchFile('a-patient.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          resource: { resourceType: 'Patient', id: 'order-pt', generalPractitioner: [practitionerRef] },
          request: { method: 'PUT', url: 'Patient/order-pt' },
        },
      ],
    });
    const doctor = scratchFile('z-practitioner.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Practitioner', id: 'order-dr' }, request: { method: 'PUT', url: 'Practitioner/order-dr' } }],
    });
    const results = await seedFhirServer(server.baseUrl, [needsDoctor, doctor]);
    expect(results.map((r) => path.basename(r.file))).toEqual(['z-practitioner.json', 'a-patient.json']);
  });

  it('loads a Synthea patient of 250 entries in one transaction, its urn:uuid references made literal', async () => {
    const text = gunzipSync(readFileSync(SYNTHEA)).toString('utf8');
    const bundle = JSON.parse(text) as Bundle;
    const file = scratchFile('synthea.json', text);
    const [result] = await seedFhirServer(server.baseUrl, [file]);
    expect(result).toMatchObject({ resources: 250, requests: 1 });
    const patientId = bundle.entry![0].resource!.id!;
    const observations = bundle.entry!.filter((e) => e.resource?.resourceType === 'Observation').length;
    expect(await total(`Observation?patient=${patientId}&_summary=count`)).toBe(observations);
    const encounter = bundle.entry!.find((e) => e.resource?.resourceType === 'Encounter')!.resource!;
    expect((await get(`${server.baseUrl}/Encounter/${encounter.id}`)).body.subject.reference).toBe(`Patient/${patientId}`);
  });

  it('splits a bundle into transactions of at most --chunk entries, each after the ones it refers to', async () => {
    const received: Bundle[] = [];
    const capture = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const sent = JSON.parse(body) as Bundle;
        received.push(sent);
        const entry = sent.entry!.map(() => ({ response: { status: '200' } }));
        res.setHeader('Content-Type', 'application/fhir+json');
        res.end(JSON.stringify({ resourceType: 'Bundle', type: 'transaction-response', entry }));
      });
    });
    await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
    try {
      const file = scratchFile('synthea-chunks.json', gunzipSync(readFileSync(SYNTHEA)).toString('utf8'));
      const url = `http://127.0.0.1:${(capture.address() as AddressInfo).port}/fhir`;
      const [result] = await seedFhirServer(url, [file], { maxEntriesPerRequest: 40 });
      expect(result).toMatchObject({ resources: 250, requests: 7 });
      expect(received.map((b) => b.entry!.length)).toEqual([40, 40, 40, 40, 40, 40, 10]);
      const sentBefore = new Set<string>();
      for (const chunk of received) {
        const here = new Set(chunk.entry!.map((e: BundleEntry) => `${e.resource!.resourceType}/${e.resource!.id}`));
        for (const e of chunk.entry!) {
          for (const ref of JSON.stringify(e.resource).match(/"reference":"[^"]+"/g) ?? []) {
            const target = ref.slice(13, -1);
            if (target.startsWith('#')) continue; // contained resource
            expect(target).not.toMatch(/^urn:uuid:/);
            expect(sentBefore.has(target) || here.has(target)).toBe(true);
          }
        }
        here.forEach((name) => sentBefore.add(name));
      }
    } finally {
      await new Promise((resolve) => capture.close(resolve));
    }
  });

  it('loads a bundle after the one holding what its conditional references name (Synthea practitioner files)', async () => {
    const npi = 'http://hl7.org/fhir/sid/us-npi';
    const patientFile = scratchFile('Alice_1.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:8d3c6a2e-53f4-4c1e-9a3b-0e7b2f1d5c01',
          resource: { resourceType: 'Patient', id: 'cond-ref-pt', generalPractitioner: [{ reference: `Practitioner?identifier=${npi}|9999977777` }] },
          request: { method: 'POST', url: 'Patient' },
        },
      ],
    });
    const practitionerFile = scratchFile('practitionerInformation1.json', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [
        {
          resource: { resourceType: 'Practitioner', id: 'cond-ref-dr', identifier: [{ system: npi, value: '9999977777' }] },
          request: { method: 'POST', url: 'Practitioner', ifNoneExist: `identifier=${npi}|9999977777` },
        },
      ],
    });
    const results = await seedFhirServer(server.baseUrl, [patientFile, practitionerFile]);
    expect(results.map((r) => path.basename(r.file))).toEqual(['practitionerInformation1.json', 'Alice_1.json']);
    expect((await get(`${server.baseUrl}/Patient/cond-ref-pt`)).body.generalPractitioner[0].reference).toBe('Practitioner/cond-ref-dr');
  });

  it('names a file that is not JSON, and sends nothing when any file is bad', async () => {
    const fresh = await startFhirServer();
    try {
      const broken = scratchFile('broken.json', '{"resourceType": "Bundle", ');
      const message = await seedError(seedFhirServer(fresh.baseUrl, [...GOOD_FILES, broken]));
      expect(message).toBe(`${broken}: not valid JSON`);
      expect((await get(`${fresh.baseUrl}/Patient/seed-a`)).status).toBe(404);
    } finally {
      await fresh.close();
    }
  });

  it('names a file that is not a FHIR Bundle or not a transaction', async () => {
    const patient = scratchFile('patient.json', { resourceType: 'Patient', id: 'x' });
    expect(await seedError(seedFhirServer(server.baseUrl, [patient]))).toBe(`${patient}: not a FHIR Bundle (resourceType is "Patient")`);
    const array = scratchFile('array.json', [1, 2]);
    expect(await seedError(seedFhirServer(server.baseUrl, [array]))).toBe(`${array}: not a FHIR Bundle (resourceType is missing)`);
    const collection = scratchFile('collection.json', { resourceType: 'Bundle', type: 'collection', entry: [] });
    expect(await seedError(seedFhirServer(server.baseUrl, [collection]))).toContain('Bundle.type must be "transaction"');
  });

  it('refuses an entry without an id, which could not be loaded repeatably', async () => {
    const file = scratchFile('no-id.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [{ resource: { resourceType: 'Observation', status: 'final' }, request: { method: 'POST', url: 'Observation' } }],
    });
    expect(await seedError(seedFhirServer(server.baseUrl, [file]))).toBe(
      `${file}: Bundle.entry[0] (Observation) has no id, so every run would create it again; give it a fixed id`,
    );
  });

  it('names the file, the resource and the server message when the server rejects a bundle', async () => {
    const file = scratchFile('rejected.json', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', id: 'ok-1' }, request: { method: 'PUT', url: 'Patient/ok-1' } },
        { resource: { resourceType: 'Patient', id: 'mismatch' }, request: { method: 'PUT', url: 'Patient/other' } },
      ],
    });
    const message = await seedError(seedFhirServer(server.baseUrl, [file]));
    expect(message).toMatch(new RegExp(`^${file}: the FHIR server rejected the bundle \\(HTTP 400\\) at Patient/mismatch: `));
    expect(message).toContain("Bundle.entry[1].resource.id 'mismatch' does not match request.url 'Patient/other'");
  });

  it('says the server could not be reached and why', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/fhir`;
    const message = await seedError(seedFhirServer(url, GOOD_FILES, { timeoutMs: 2000 }));
    expect(message).toMatch(new RegExp(`^Could not reach the FHIR server at ${url} \\(ECONNREFUSED`));
  });

  it('rejects a base URL that is not http(s)', async () => {
    expect(await seedError(seedFhirServer('ftp://example.test/fhir', GOOD_FILES))).toContain('must be http(s)');
  });
});

describe('waitForFhirServer', () => {
  it('returns once the server serves its CapabilityStatement', async () => {
    await expect(waitForFhirServer(server.baseUrl, { timeoutMs: 5000 })).resolves.toBeUndefined();
  });

  it('gives up after its bound with the last reason', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/fhir`;
    const message = await seedError(waitForFhirServer(url, { timeoutMs: 300, intervalMs: 100 }));
    expect(message).toMatch(/was not ready within 0 s \(Could not reach the FHIR server .*ECONNREFUSED/);
  });
});
