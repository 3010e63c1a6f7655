/**
 * `npm run serve`: the production CDS service only, client trust on unless CDS_TRUST_CLIENTS says otherwise,
 * one worker per core when the shared state is in PostgreSQL (src/server/workers.ts; WORKERS sets the number).
 * A configuration or startup failure (bad variable, missing ELM or value set) stops here with its message.
 */
import cluster from 'node:cluster';
import { loadConfig } from './config';
import { loadSecurityConfig } from './security/config';
import { requirePublicBaseUrl, startCdsService } from './server/start-cds-service';
import { runPrimary, workerCount } from './server/workers';

function fail(error: unknown): never {
  console.error(`startup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

if (cluster.isPrimary) {
  let count = 1;
  try {
    count = workerCount(process.env);
    // Settings every worker would refuse are refused here, once, instead of by a crash loop of workers.
    const config = loadConfig(process.env);
    requirePublicBaseUrl(config, loadSecurityConfig(process.env, { trustClients: true, sandboxFhirPort: config.sandboxFhirPort }));
  } catch (error) {
    fail(error);
  }
  if (count > 1) runPrimary(count, (message) => console.error(message));
  else startCdsService({ trustClientsByDefault: true }).catch(fail);
} else {
  startCdsService({ trustClientsByDefault: true }).catch(fail);
}
