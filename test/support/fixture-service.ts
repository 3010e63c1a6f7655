/**
 * The whole service on a loopback port with the real policy engine and the embedded FHIR server
 * seeded with the fixture patients: what the CDS Hooks sandbox talks to. `cardsFor` sends a fixture
 * request over HTTP with the record left to be fetched from the FHIR server.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Card } from '../../src/cds-hooks/types';
import { silentLogger } from '../../src/cds-hooks/logger';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { loadPolicyEngine } from '../../src/engine/engine';
import { listBundleFiles, seedFhirServer, startFhirServer } from '../../src/sandbox/fhir-server';
import { listen } from '../security/support/http';
import { FIXTURES_DIR } from './fixture-table';

export interface FixtureService {
  /** http://127.0.0.1:PORT of the CDS service. */
  baseUrl: string;
  cardsFor(requestName: string): Promise<Card[]>;
  close(): Promise<void>;
}

export async function startFixtureService(): Promise<FixtureService> {
  const engine = await loadPolicyEngine();
  const fhir = await startFhirServer({ port: 0 });
  await seedFhirServer(fhir.baseUrl, listBundleFiles(join(FIXTURES_DIR, 'patients')));
  const service = await listen(
    createApp({
      engine,
      config: loadConfig({}),
      logger: silentLogger,
      fhirServerPolicy: (_issuer, url) => ({ ok: true, url }),
    }),
  );
  return {
    baseUrl: service.baseUrl,
    async cardsFor(requestName) {
      const body = JSON.parse(readFileSync(join(FIXTURES_DIR, 'requests', `${requestName}.json`), 'utf8'));
      const response = await fetch(`${service.baseUrl}/cds-services/intrathecal-pump-${body.hook}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...body, fhirServer: fhir.baseUrl }),
      });
      if (response.status !== 200) throw new Error(`${requestName}: HTTP ${response.status} ${await response.text()}`);
      return ((await response.json()) as { cards: Card[] }).cards;
    },
    async close() {
      await service.close();
      await fhir.close();
    },
  };
}
