/** The embedded FHIR R4 sandbox: server, Express app (for supertest) and seeding. */
export { createFhirApp, type FhirAppOptions } from './app';
export { startFhirServer, type FhirServerOptions, type RunningFhirServer } from './server';
export { startFhirServerThread, type FhirServerThread, type FhirThreadOptions } from './thread';
export { seedFhirServer, listBundleFiles, waitForFhirServer, SeedError, type SeedOptions, type SeedFileResult } from './seed';
