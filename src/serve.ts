/**
 * `npm run serve`: the production CDS service only, client trust on unless CDS_TRUST_CLIENTS says otherwise.
 * A configuration or startup failure (bad variable, missing ELM or value set) stops here with its message.
 */
import { startCdsService } from './server/start-cds-service';

startCdsService({ trustClientsByDefault: true }).catch((error: unknown) => {
  console.error(`startup failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
