/**
 * The CDS Hooks service as an Express app: JSON body parser with a size limit, CORS, request
 * ids, the routes, and one error handler. Everything expensive (service definitions, policy
 * page, FHIR connection pool, the policy engine) is made once here or passed in.
 */
import { randomUUID } from 'node:crypto';
import express, { type Express, type RequestHandler } from 'express';
import pino from 'pino';
import type { Config } from './config';
import type { PolicyEngine } from './cql/types';
import { cors } from './hooks/cors';
import { errorHandler, notFound } from './hooks/error-handler';
import { createMemoryFeedbackStore, type FeedbackStore } from './hooks/feedback';
import { createFhirFetcher, type FhirFetcher } from './hooks/fhir-fetch';
import type { Logger } from './hooks/logger';
import { renderPolicyPage } from './hooks/policy-page';
import { cdsRoutes } from './hooks/routes';
import { loadServiceCatalog } from './hooks/service-definitions';

export interface AppOptions {
  engine: PolicyEngine;
  config: Config;
  /** pino or anything with its info/warn/error; default pino at config.logLevel. */
  logger?: Logger;
  feedbackStore?: FeedbackStore;
  /** Default: fhir-kit-client with config's timeout, page and size limits. */
  fhirFetcher?: FhirFetcher;
  /** Folder of the service definitions; default <project root>/hooks. */
  servicesDir?: string;
  /** Clock for the call date; default the system clock. */
  now?: () => Date;
  /** Runs before hook and feedback calls, e.g. CDS Hooks JWT verification. */
  authenticate?: RequestHandler;
}

export interface CdsApp extends Express {
  /** Releases what the app holds open (the FHIR connection pool). */
  closeResources(): Promise<void>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.get('x-request-id');
  const id = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  next();
};

export function createApp(options: AppOptions): CdsApp {
  const { config } = options;
  const logger: Logger = options.logger ?? pino({ level: config.logLevel });
  const fetcher =
    options.fhirFetcher ??
    createFhirFetcher({
      timeoutMs: config.fhirTimeoutMs,
      maxPages: config.fhirMaxPages,
      maxResponseBytes: config.fhirMaxResponseBytes,
    });

  const app = express() as CdsApp;
  app.disable('x-powered-by');
  app.use(requestId);
  app.use(cors);
  app.use(express.json({ limit: config.maxBodyBytes, type: ['application/json', 'application/*+json'] }));
  app.use(
    cdsRoutes({
      engine: options.engine,
      fetcher,
      requireTrialAgent: config.requireTrialAgent,
      deadlineMs: config.hookDeadlineMs,
      now: options.now ?? (() => new Date()),
      catalog: loadServiceCatalog(options.servicesDir),
      feedbackStore: options.feedbackStore ?? createMemoryFeedbackStore(),
      policyPageHtml: renderPolicyPage(),
      publicBaseUrl: config.publicBaseUrl,
      logger,
      authenticate: options.authenticate,
    }),
  );
  app.use(notFound);
  app.use(errorHandler(logger));
  app.closeResources = () => fetcher.close();
  return app;
}
