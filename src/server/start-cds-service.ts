/**
 * Starts the CDS service: starts the evaluation threads (each loads the policy engine: ELM, value sets, FHIR model), makes the app and
 * listens; SIGTERM/SIGINT stop accepting, let in-flight calls finish, then exit. Shared by the
 * production command (src/serve.ts) and the embedded sandbox (src/sandbox.ts), which differ only in
 * whether client trust is on by default.
 */
import type { Server } from 'node:http';
import { createApp } from '../app';
import { loadConfig, type Config } from '../config';
import { inProcessEvaluator } from '../engine/call-evaluator';
import { loadPolicyEngine } from '../engine/engine';
import { EvaluationThreads } from '../engine/evaluation-threads';
import { createLogger, type Logger } from '../logging/logger';
import { installGracefulShutdown } from '../ops/shutdown';
import { loadPacks, type PolicyPack } from '../packs/load-packs';
import { describeTrustMode, loadSecurityConfig, type SecurityConfig } from '../security/config';
import { limitHeapGrowth } from './heap-growth';
import { createCdsHttpServer } from './http-server';
import { loadAdminToken } from '../admin/admin-routes';
import { loadStorageConfig } from '../storage/config';
import { openStorage } from '../storage/storage';

export interface StartedCdsService {
  config: Config;
  logger: Logger;
  server: Server;
  /** e.g. http://localhost:3000 */
  baseUrl: string;
  /** The policy packs served. */
  packs: readonly PolicyPack[];
}

/**
 * With client trust on, the JWT audience is the configured PUBLIC_BASE_URL, never the Host header
 * (a caller could name another service of the same issuer): refuse to start without it.
 */
export function requirePublicBaseUrl(config: Pick<Config, 'publicBaseUrl'>, security: Pick<SecurityConfig, 'trustClients'>): void {
  if (security.trustClients && !config.publicBaseUrl) {
    throw new Error('client trust is on but PUBLIC_BASE_URL is unset: set it to the URL clients call (the JWT audience is never taken from the request)');
  }
}

export async function startCdsService(options: {
  trustClientsByDefault: boolean;
  /** CRD_REQUIRE_COVERAGE when unset: true in production, false in the sandbox. */
  requireCoverageByDefault?: boolean;
  host?: string;
  onClosed?: () => Promise<void>;
}): Promise<StartedCdsService> {
  const config = loadConfig(process.env, { requireCoverage: options.requireCoverageByDefault ?? true });
  const logger = createLogger({ level: config.logLevel });
  const security = loadSecurityConfig(process.env, { trustClients: options.trustClientsByDefault, sandboxFhirPort: config.sandboxFhirPort });
  logger.info({ trust: security.trustClients }, describeTrustMode(security));
  requirePublicBaseUrl(config, security);
  if (!process.env.CRD_PAYERS && config.crd.requireCoverage) {
    logger.warn({ insurer: config.crd.payer.insurer }, 'CRD_PAYERS is unset: answering for the sandbox payer only; set it to the payer this deployment serves');
  }

  // Before anything grows the heap, and before the threads start (V8 flags are per process).
  limitHeapGrowth(config.heapGrowingPercent);
  const started = performance.now();
  const packs = loadPacks();
  // Evaluation runs in threads, each with its own engine; with none, on the event loop (EVALUATION_THREADS=0).
  const { threads, maxHeapMb } = config.evaluation;
  const evaluator =
    threads > 0
      ? await EvaluationThreads.start({ threads, maxHeapMb, onReplaced: (reason) => logger.warn({ reason }, 'evaluation thread replaced') })
      : inProcessEvaluator(await loadPolicyEngine({ packs }));
  logger.info({ ms: Math.round(performance.now() - started), packs: packs.map((p) => p.id), threads }, 'policy engine loaded (packs, ELM, value sets, FHIR model)');

  const storageConfig = loadStorageConfig();
  const adminToken = loadAdminToken();
  const storage = await openStorage(storageConfig, logger);
  logger.info(
    { engine: storage.db.engine, retentionDays: storageConfig.retentionDays, admin: adminToken !== undefined },
    storage.db.engine === 'pglite' ? `embedded database in ${storageConfig.dataDir}` : 'PostgreSQL database',
  );

  // /ready answers 503 from the moment shutdown starts (docs/security.md), so balancers stop routing here.
  let shuttingDown = (): boolean => false;
  const readiness = () => ({ engine: true, serviceDefinitions: true, accepting: !shuttingDown() });
  const app = createApp({ evaluator, config, logger, security, packs, storage, adminToken, readiness });
  const host = options.host ?? '0.0.0.0';
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = createCdsHttpServer(app, config.http);
    listening.listen(config.port, host, () => resolve(listening));
    listening.once('error', reject);
  });
  const shutdownControl = installGracefulShutdown(server, {
    logger,
    onClosed: async () => {
      await app.closeResources();
      await evaluator.close();
      await storage.close();
      await options.onClosed?.();
    },
  });
  shuttingDown = shutdownControl.isShuttingDown;
  const baseUrl = config.publicBaseUrl ?? `http://localhost:${config.port}`;
  logger.info({ port: config.port }, 'CDS service listening');
  return { config, logger, server, baseUrl, packs };
}
