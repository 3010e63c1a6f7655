/**
 * Starts the CDS service: loads the policy engine (ELM, value sets, FHIR model), makes the app and
 * listens; SIGTERM/SIGINT stop accepting, let in-flight calls finish, then exit. Shared by the
 * production command (src/serve.ts) and the embedded sandbox (src/sandbox.ts), which differ only in
 * whether client trust is on by default.
 */
import type { Server } from 'node:http';
import { createApp } from '../app';
import { loadConfig, type Config } from '../config';
import { loadPolicyEngine } from '../engine/engine';
import { createLogger, type Logger } from '../logging/logger';
import { installGracefulShutdown } from '../ops/shutdown';
import { describeTrustMode, loadSecurityConfig } from '../security/config';
import { createCdsHttpServer } from './http-server';

export interface StartedCdsService {
  config: Config;
  logger: Logger;
  server: Server;
  /** e.g. http://localhost:3000 */
  baseUrl: string;
}

export async function startCdsService(options: { trustClientsByDefault: boolean; host?: string; onClosed?: () => Promise<void> }): Promise<StartedCdsService> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const security = loadSecurityConfig(process.env, { trustClients: options.trustClientsByDefault, sandboxFhirPort: config.sandboxFhirPort });
  logger.info({ trust: security.trustClients }, describeTrustMode(security));

  const started = performance.now();
  const engine = await loadPolicyEngine();
  logger.info({ ms: Math.round(performance.now() - started) }, 'policy engine loaded (ELM, value sets, FHIR model)');

  const app = createApp({ engine, config, logger, security });
  const host = options.host ?? '0.0.0.0';
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = createCdsHttpServer(app, config.http);
    listening.listen(config.port, host, () => resolve(listening));
    listening.once('error', reject);
  });
  installGracefulShutdown(server, {
    logger,
    onClosed: async () => {
      await app.closeResources();
      await options.onClosed?.();
    },
  });
  const baseUrl = config.publicBaseUrl ?? `http://localhost:${config.port}`;
  logger.info({ port: config.port }, 'CDS service listening');
  return { config, logger, server, baseUrl };
}
