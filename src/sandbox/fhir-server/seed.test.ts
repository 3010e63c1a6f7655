import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { SeedError, listBundleFiles, seedFhirServer, waitForFhirServer } from './seed';
import { startFhirServer, type RunningFhirServer } from './server';
import { closedPort } from '../../../test/support/ports';

const TEST_DATA = path.join(__dirname, 'test-data');
const GOOD_FILES = [path.join(TEST_DATA, 'seed-patient-a.json'), path.join(TEST_DATA, 'seed-patient-b.json')];

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
