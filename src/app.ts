/**
 * The CDS Hooks service as an Express app, in the order a request meets it: request log and id,
 * health, CORS, client authentication and rate limit (before the body is read), the JSON body
 * parser with a size limit, the routes, and one error handler. Everything expensive (service
 * definitions, policy page, FHIR connection pool, the policy engine) is made once here or passed in.
 */
import express, { type Express } from 'express';
import type { Config } from './config';
import type { PolicyEngine } from './engine/types';
import { inProcessEvaluator, type CallEvaluator } from './engine/call-evaluator';
import { cors } from './cds-hooks/cors';
import { errorHandler, notFound } from './cds-hooks/error-handler';
import { createMemoryFeedbackStore, type FeedbackStore } from './cds-hooks/feedback';
import { createFhirFetcher, type FhirFetcher } from './fhir-client/fhir-fetch';
import { renderPolicyPage } from './presentation/policy-page';
import { CDS_ROUTES, cdsRoutes } from './cds-hooks/routes';
import { loadServiceCatalog } from './cds-hooks/service-definitions';
import { createLogger, type Logger } from './logging/logger';
import { createRequestLogging } from './logging/request-log';
import { createMetrics, type ServiceMetrics } from './ops/metrics';
import { createMetricsRouter } from './ops/metrics-endpoint';
import { createHealthRouter, type ReadinessReport } from './ops/health';
import { createRateLimit } from './ops/rate-limit';
import { AdmissionGate, createAdmission, markArrival } from './ops/admission';
import { createEvaluationCache } from './cds-hooks/evaluation-cache';
import { loadPacks, type PolicyPack } from './packs/load-packs';
import { createClientAuth, getClientIssuer } from './security/client-auth';
import { loadSecurityConfig, type SecurityConfig } from './security/config';
import { checkFhirServer, type FhirServerCheck } from './security/fhir-server-allowlist';
import { createAdminRouter } from './admin/admin-routes';
import type { Storage } from './storage/storage';

// Fetching missing prefetch stops this long before the call's deadline, so a slow FHIR server
// gets the specification's 412 rather than the deadline's 503.
const FETCH_MARGIN_MS = 500;

export interface AppOptions {
  /** The policy engine, evaluating on this thread (tests); production passes `evaluator` (worker threads) and `packs`. */
  engine?: PolicyEngine;
  /** Evaluates the hook calls; default: `engine` on this thread. */
  evaluator?: CallEvaluator;
  config: Config;
  /** Client trust, fhirServer allowlist and rate limit; default: from the environment with trust off. */
  security?: SecurityConfig;
  /** Default: pino at config.logLevel with tokens redacted. */
  logger?: Logger;
  /** Which FHIR servers a caller may have us fetch from; default: the security configuration's allowlists. */
  fhirServerPolicy?: (issuer: string | undefined, fhirServer: string) => FhirServerCheck;
  /** What GET /ready reports; default: ready (the engine was loaded before the app was made). */
  readiness?: () => ReadinessReport;
  feedbackStore?: FeedbackStore;
  /** Default: fhir-kit-client with config's timeout, page and size limits. */
  fhirFetcher?: FhirFetcher;
  /** The policy packs served; default: the engine's packs, else every pack under policies/. */
  packs?: readonly PolicyPack[];
  /** Clock for the call date; default the system clock. */
  now?: () => Date;
  /**
   * The database: call record, feedback, and the replay cache and rate limits shared by replicas.
   * Without it (tests of other concerns) nothing is recorded and those are per process.
   */
  storage?: Storage;
  /** Credential of the admin API (ADMIN_TOKEN); the API is mounted only with it and storage. */
  adminToken?: string;
  /** Default: a registry of its own with process metrics. */
  metrics?: ServiceMetrics;
}

export interface CdsApp extends Express {
  /** Releases what the app holds open (the FHIR connection pool). */
  closeResources(): Promise<void>;
}

export function createApp(options: AppOptions): CdsApp {
  const { config } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const security = options.security ?? loadSecurityConfig(process.env, { trustClients: false, sandboxFhirPort: config.sandboxFhirPort });
  const fhirServerPolicy = options.fhirServerPolicy ?? ((issuer, url) => checkFhirServer(issuer, url, security));
  const fetcher =
    options.fhirFetcher ??
    createFhirFetcher({
      timeoutMs: config.fhirTimeoutMs,
      maxPages: config.fhirMaxPages,
      maxResponseBytes: config.fhirMaxResponseBytes,
    });

  const packs = options.packs ?? options.engine?.packs ?? loadPacks();
  const evaluator = options.evaluator ?? (options.engine ? inProcessEvaluator(options.engine) : undefined);
  if (!evaluator) throw new Error('createApp needs an engine or an evaluator');
  const metrics = options.metrics ?? createMetrics({ overrideReasons: packs.flatMap((pack) => pack.manifest.overrideReasons) });

  const app = express() as CdsApp;
  app.disable('x-powered-by');
  app.use(markArrival());
  app.use(createRequestLogging(logger, { knownRoutes: CDS_ROUTES, onFinished: metrics.requestFinished }));
  app.use(createHealthRouter(options.readiness ?? (() => ({ engine: true, serviceDefinitions: true }))));
  app.use(createMetricsRouter(metrics.registry, { bearerToken: config.metricsToken }));
  app.use(cors);
  const admission = new AdmissionGate({ ...config.admission, budgetMs: config.hookDeadlineMs });
  app.use(
    '/cds-services',
    // Cheap refusals first: per address (before any signature is checked), then the capacity gate.
    createRateLimit({ perMinute: config.http.addressRateLimitPerMinute, burst: config.http.addressRateLimitBurst, keyOf: (req) => `ip:${req.ip ?? 'unknown'}` }),
    createAdmission(admission, (req) => req.method === 'POST' && /^\/[^/]+\/?$/.test(req.path)),
    createClientAuth({ security, publicBaseUrl: config.publicBaseUrl, logger, replayStore: options.storage?.replay }),
    createRateLimit({
      perMinute: security.rateLimitPerMinute,
      burst: security.rateLimitBurst,
      // Shared counters only where there can be several processes: PGlite serves one, so memory is the same limit for free.
      db: options.storage?.db.engine === 'postgres' ? options.storage.db : undefined,
      logger,
    }),
  );
  app.use(express.json({ limit: config.maxBodyBytes, type: ['application/json', 'application/*+json'] }));
  app.use(
    cdsRoutes({
      evaluator,
      fetcher,
      crd: config.crd,
      deadlineMs: Math.max(0, config.hookDeadlineMs - FETCH_MARGIN_MS),
      callDeadlineMs: config.hookDeadlineMs,
      evaluationCache: createEvaluationCache(config.evaluationCache),
      now: options.now ?? (() => new Date()),
      catalog: loadServiceCatalog(packs),
      feedbackStore: options.feedbackStore ?? options.storage?.feedback ?? createMemoryFeedbackStore(),
      callRecorder: options.storage?.recorder,
      policyPages: new Map(packs.map((pack) => [pack.pagePath, renderPolicyPage(pack)])),
      publicBaseUrl: config.publicBaseUrl,
      logger,
      metrics,
      authorizeFhirServer: (res, fhirServer) => fhirServerPolicy(getClientIssuer(res), fhirServer),
    }),
  );
  if (options.adminToken && options.storage) {
    app.use('/admin', createAdminRouter({ token: options.adminToken, db: options.storage.db, logger }));
  }
  app.use(notFound);
  app.use(errorHandler(logger));
  app.closeResources = () => fetcher.close();
  return app;
}
