import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Bundle } from 'fhir/r4';
import { seedFhirServer } from './seed';
import { startFhirServerThread, type FhirServerThread } from './thread';

const TEST_DATA = path.join(__dirname, 'test-data');
const FILES = [path.join(TEST_DATA, 'seed-patient-a.json'), path.join(TEST_DATA, 'seed-patient-b.json')];

async function ids(url: string): Promise<string[]> {
  const bundle = (await (await fetch(url)).json()) as Bundle;
  return (bundle.entry ?? []).map((e) => `${e.resource?.resourceType}/${e.resource?.id}`);
}

describe('startFhirServerThread', () => {
  let fhir: FhirServerThread;
  beforeAll(async () => {
    fhir = await startFhirServerThread();
    await seedFhirServer(fhir.baseUrl, FILES);
  }, 60_000);
  afterAll(() => fhir.close());

  it('serves the embedded FHIR server from its thread, with the same answers indexed or not', async () => {
    const query = `${fhir.baseUrl}/Condition?patient=seed-a`;
    const indexed = await ids(query);
    expect(indexed).toEqual(['Condition/seed-a-pain']);
    await fhir.setIndexedSearch(false);
    expect(await ids(query)).toEqual(indexed);
    await fhir.setIndexedSearch(true);
  });

  it("keeps the caller's event loop free while the thread stores a large transaction", async () => {
    const local: Server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    const localUrl = `http://127.0.0.1:${(local.address() as AddressInfo).port}/`;
    try {
      const entry = Array.from({ length: 4000 }, (_, i) => ({
        resource: { resourceType: 'Observation', id: `big-${i}`, status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/seed-a' } },
        request: { method: 'PUT', url: `Observation/big-${i}` },
      }));
      const order: string[] = [];
      const big = fetch(fhir.baseUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/fhir+json' },
        body: JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry }),
      }).then((r) => order.push(`transaction ${r.status}`));
      // Sent after the transaction: served by this thread while the FHIR thread is still storing it.
      await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < 5; i++) await fetch(localUrl).then((r) => r.text()).then((t) => order.push(`local ${t}`));
      await big;
      expect(order).toEqual(['local ok', 'local ok', 'local ok', 'local ok', 'local ok', 'transaction 200']);
    } finally {
      await new Promise((resolve) => local.close(resolve));
    }
  }, 60_000);

  it('says why when it cannot listen, and ends the thread', async () => {
    const taken = new URL(fhir.baseUrl).port;
    await expect(startFhirServerThread({ port: Number(taken), host: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/);
  }, 60_000);

  it('stops listening on close', async () => {
    const other = await startFhirServerThread();
    expect((await fetch(`${other.baseUrl}/metadata`)).status).toBe(200);
    await other.close();
    await expect(fetch(`${other.baseUrl}/metadata`)).rejects.toThrow();
  }, 60_000);
});
