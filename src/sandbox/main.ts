/**
 * `npm start`: the embedded sandbox for testers. Starts the in-memory FHIR server on SANDBOX_FHIR_PORT in a
 * thread of its own (so its searches and transactions never hold up hook calls), loads every fixture patient
 * into it, starts the CDS service on PORT with client trust off (unless
 * CDS_TRUST_CLIENTS says otherwise), and prints where everything is and one curl command that returns a card.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadServiceCatalog } from '../cds-hooks/service-definitions';
import type { ServiceDefinition } from '../cds-hooks/types';
import { loadConfig } from '../config';
import type { PolicyPack } from '../packs/load-packs';
import { PROJECT_ROOT as ROOT } from '../project-root';
import { listBundleFiles, seedFhirServer, startFhirServerThread } from './fhir-server';
import { startCdsService } from '../server/start-cds-service';

const REQUESTS_DIR = path.join(ROOT, 'fixtures', 'requests');

/**
 * The curl command of the hint, from what is loaded rather than a name written here: the first order-sign service
 * the packs define (else their first service) and the first fixture request for its hook.
 */
function exampleCall(packs: readonly PolicyPack[], baseUrl: string): string {
  const { services } = JSON.parse(loadServiceCatalog(packs).discoveryJson) as { services: ServiceDefinition[] };
  const service = services.find((s) => s.hook === 'order-sign') ?? services[0];
  const request = fs
    .readdirSync(REQUESTS_DIR)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .find((name) => (JSON.parse(fs.readFileSync(path.join(REQUESTS_DIR, name), 'utf8')) as { hook?: unknown }).hook === service.hook);
  const url = `${baseUrl}/cds-services/${service.id}`;
  if (!request) return `  curl -s -X POST ${url} -H 'Content-Type: application/json' -d @<a CDS Hooks ${service.hook} request>`;
  return `  curl -s -X POST ${url} -H 'Content-Type: application/json' -d @${path.relative(process.cwd(), path.join(REQUESTS_DIR, request))}`;
}

async function main(): Promise<void> {
  const { sandboxFhirPort } = loadConfig();
  const fhir = await startFhirServerThread({ port: sandboxFhirPort, host: '127.0.0.1' });
  const seeded = await seedFhirServer(fhir.baseUrl, listBundleFiles(path.join(ROOT, 'fixtures', 'patients')));
  const cds = await startCdsService({ trustClientsByDefault: false, requireCoverageByDefault: false, host: '127.0.0.1', onClosed: () => fhir.close() });
  const fhirUrl = `http://localhost:${sandboxFhirPort}/fhir`;
  console.log(
    [
      '',
      `CDS service:  ${cds.baseUrl}/cds-services`,
      `FHIR server:  ${fhirUrl} (${seeded.reduce((n, f) => n + f.resources, 0)} synthetic resources from ${seeded.length} fixture files)`,
      ...cds.packs.map((pack) => `Policy page:  ${cds.baseUrl}${pack.pagePath}`),
      '',
      'Try:',
      exampleCall(cds.packs, cds.baseUrl),
      sandboxFhirPort === 8080 ? '' : `  (the fixture requests name http://localhost:8080/fhir as fhirServer; edit it to ${fhirUrl})`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(`sandbox failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
