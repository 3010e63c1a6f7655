/**
 * `npm start`: the embedded sandbox for testers. Starts the in-memory FHIR server on SANDBOX_FHIR_PORT in a
 * thread of its own (so its searches and transactions never hold up hook calls), loads every fixture patient
 * into it, starts the CDS service on PORT with client trust off (unless
 * CDS_TRUST_CLIENTS says otherwise), and prints where everything is and one curl command that returns a card.
 */
import path from 'node:path';
import { loadConfig } from '../config';
import { PROJECT_ROOT as ROOT } from '../project-root';
import { listBundleFiles, seedFhirServer, startFhirServerThread } from './fhir-server';
import { startCdsService } from '../server/start-cds-service';


async function main(): Promise<void> {
  const { sandboxFhirPort } = loadConfig();
  const fhir = await startFhirServerThread({ port: sandboxFhirPort, host: '127.0.0.1' });
  const seeded = await seedFhirServer(fhir.baseUrl, listBundleFiles(path.join(ROOT, 'fixtures', 'patients')));
  const cds = await startCdsService({ trustClientsByDefault: false, requireCoverageByDefault: false, host: '127.0.0.1', onClosed: () => fhir.close() });
  const fhirUrl = `http://localhost:${sandboxFhirPort}/fhir`;
  const example = path.relative(process.cwd(), path.join(ROOT, 'fixtures', 'requests', 'cnmp-trial-met.json')) || 'fixtures/requests/cnmp-trial-met.json';
  console.log(
    [
      '',
      `CDS service:  ${cds.baseUrl}/cds-services`,
      `FHIR server:  ${fhirUrl} (${seeded.reduce((n, f) => n + f.resources, 0)} synthetic resources from ${seeded.length} fixture files)`,
      ...cds.packs.map((pack) => `Policy page:  ${cds.baseUrl}${pack.pagePath}`),
      '',
      'Try:',
      `  curl -s -X POST ${cds.baseUrl}/cds-services/intrathecal-pump-order-sign -H 'Content-Type: application/json' -d @${example}`,
      sandboxFhirPort === 8080 ? '' : `  (the fixture requests name http://localhost:8080/fhir as fhirServer; edit it to ${fhirUrl})`,
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(`sandbox failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
