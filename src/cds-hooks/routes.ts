/**
 * The CDS Hooks endpoints. Handlers are thin: they look up the service, call the module that
 * does the work, and write the answer; errors go to the app's error handler.
 */
import { Router, type Request, type Response } from 'express';
import { countLeftOut } from '../engine/record-intake';
import { getClientIssuer } from '../security/client-auth';
import type { CallInput } from '../storage/call-record';
import { annotateHookCall, annotateHookService, type KnownRoute } from '../logging/request-log';
import { respondDeadlineExceeded, withDeadline } from '../ops/deadline';
import { elapsedSinceArrival } from '../ops/admission';
import { HttpError, invalid, operationOutcome, unknownService } from './errors';
import { validateFeedback, type FeedbackStore } from './feedback';
import { runHookCall, type HookCallDeps } from './hook-call';
import type { Logger } from './logger';
import type { LoadedService, ServiceCatalog } from './service-definitions';
import { validateHookRequest } from './validate-request';

export interface RouteDeps extends HookCallDeps {
  catalog: ServiceCatalog;
  feedbackStore: FeedbackStore;
  /** Path of each pack's policy page -> its HTML, rendered at startup. */
  policyPages: ReadonlyMap<string, string>;
  publicBaseUrl?: string;
  logger: Logger;
  /** Deadline of the whole call; past it the answer is 503 with Retry-After. */
  callDeadlineMs: number;
  /** Keeps the call record after the answer is sent; absent: no record (tests of other concerns). */
  callRecorder?: { record(input: CallInput): void };
  /** Whether this caller may have us fetch from this FHIR server (SSRF guard); the message names the reason. */
  authorizeFhirServer: (res: Response, fhirServer: string) => { ok: true } | { ok: false; message: string };
}

type RecordCall = (fields: Pick<CallInput, 'outcome'> & Partial<CallInput>) => void;

const DISCOVERY = '/cds-services';
const SERVICE = '/cds-services/:id';
const FEEDBACK = '/cds-services/:id/feedback';

/** The hook routes, for naming calls that client auth, the rate limit or the body parser refused first. */
export const CDS_ROUTES: readonly KnownRoute[] = [
  { method: 'GET', path: DISCOVERY },
  { method: 'POST', path: SERVICE },
  { method: 'POST', path: FEEDBACK },
];

function baseUrlOf(req: Request, configured?: string): string {
  return configured ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function cdsRoutes(deps: RouteDeps): Router {
  const router = Router();

  router.get(DISCOVERY, (_req, res) => {
    res.type('application/json').send(deps.catalog.discoveryJson);
  });

  router.post(SERVICE, async (req, res) => {
    const service = deps.catalog.get(req.params.id as string);
    if (!service) throw unknownService(req.params.id as string);
    annotateHookService(res, service.definition.id);
    const receivedAt = new Date();
    const started = performance.now();
    // Queued after the answer is written; the recorder builds and stores the record later.
    const recordCall: RecordCall = (fields) =>
      deps.callRecorder?.record({
        serviceId: service.definition.id,
        request: req.body,
        clientIssuer: getClientIssuer(res),
        receivedAt,
        durationMs: performance.now() - started,
        httpStatus: res.statusCode,
        ...fields,
      });
    try {
      await answerHookCall(req, res, service, recordCall);
    } catch (error) {
      // A refused call is recorded with the status and OperationOutcome the error handler sends.
      const known = error instanceof HttpError ? error : undefined;
      recordCall({
        outcome: known?.code ?? 'internal-error',
        httpStatus: known?.status ?? 500,
        response: known ? operationOutcome(known.code, known.message) : undefined,
      });
      throw error;
    }
  });

  async function answerHookCall(req: Request, res: Response, service: LoadedService, recordCall: RecordCall): Promise<void> {
    const request = validateHookRequest(req.body, service.definition.hook);
    if (request.fhirServer !== undefined) {
      const allowed = deps.authorizeFhirServer(res, request.fhirServer);
      if (!allowed.ok) throw invalid(`fhirServer: ${allowed.message}`);
    }
    const policyPageUrl = `${baseUrlOf(req, deps.publicBaseUrl)}${service.pack.pagePath}`;
    // The budget started when the request arrived: time spent queued and reading the body is spent.
    const spentMs = elapsedSinceArrival(res);
    const remainingMs = Math.max(0, Math.floor(deps.callDeadlineMs - spentMs));
    const fetchMarginMs = deps.callDeadlineMs - deps.deadlineMs;
    const outcome =
      remainingMs === 0
        ? ({ kind: 'deadline-exceeded', deadlineMs: deps.callDeadlineMs } as const)
        : await withDeadline(
            (signal) => runHookCall(deps, service, request, policyPageUrl, signal, deps.deadlineMs > 0 ? Math.max(1, remainingMs - fetchMarginMs) : 0),
            remainingMs,
          );
    if (outcome.kind === 'deadline-exceeded') {
      annotateHookCall(res, { service: service.definition.id, hookInstance: request.hookInstance, cards: 0, outcome: 'deadline' });
      respondDeadlineExceeded(res, deps.callDeadlineMs);
      recordCall({ outcome: 'deadline' });
      return;
    }
    const { response, stats, evaluations, record, leftOut } = outcome.value;
    res.json(response);
    const callOutcome = stats.failedEvaluations > 0 ? 'evaluation-failed' : response.cards.length > 0 ? 'cards' : 'no-card';
    recordCall({
      outcome: callOutcome,
      response,
      record,
      fetchedKeys: stats.fetchedKeys,
      truncatedKeys: stats.truncatedKeys,
      evaluations,
    });
    annotateHookCall(res, {
      service: service.definition.id,
      hookInstance: request.hookInstance,
      cards: response.cards.length,
      criteria: evaluations.flatMap((e) => e.criteria),
      outcome: callOutcome,
    });
    if (stats.truncatedKeys.length > 0 || stats.skippedResources > 0) {
      deps.logger.warn(
        { requestId: res.locals.requestId, truncatedKeys: stats.truncatedKeys, skippedResources: stats.skippedResources, leftOut: countLeftOut(leftOut) },
        'hook call read partial data',
      );
    }
  }

  router.post(FEEDBACK, async (req, res) => {
    const service = deps.catalog.get(req.params.id as string);
    if (!service) throw unknownService(req.params.id as string);
    const items = validateFeedback(req.body);
    const receivedAt = new Date().toISOString();
    const clientIssuer = getClientIssuer(res);
    await deps.feedbackStore.add(items.map((feedback) => ({ serviceId: service.definition.id, receivedAt, feedback, clientIssuer })));
    deps.metrics?.feedbackReceived(service.definition.id, items);
    res.status(200).json({});
    deps.logger.info({ requestId: res.locals.requestId, service: service.definition.id, feedback: items.length }, 'feedback');
  });

  for (const [pagePath, html] of deps.policyPages) {
    router.get(pagePath, (_req, res) => {
      res
        .type('text/html; charset=utf-8')
        .setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
        .send(html);
    });
  }

  return router;
}
