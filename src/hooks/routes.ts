/**
 * The CDS Hooks endpoints. Handlers are thin: they look up the service, call the module that
 * does the work, and write the answer; errors go to the app's error handler.
 */
import { Router, type Request, type RequestHandler } from 'express';
import { unknownService } from './errors';
import { validateFeedback, type FeedbackStore } from './feedback';
import { runHookCall, type HookCallDeps } from './hook-call';
import type { Logger } from './logger';
import { POLICY } from './policy-text';
import type { ServiceCatalog } from './service-definitions';
import { validateHookRequest } from './validate-request';

export interface RouteDeps extends HookCallDeps {
  catalog: ServiceCatalog;
  feedbackStore: FeedbackStore;
  policyPageHtml: string;
  publicBaseUrl?: string;
  logger: Logger;
  /** Runs before hook and feedback calls (for example CDS Hooks JWT verification). */
  authenticate?: RequestHandler;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function baseUrlOf(req: Request, configured?: string): string {
  return configured ?? `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

export function cdsRoutes(deps: RouteDeps): Router {
  const router = Router();
  const guarded: RequestHandler[] = deps.authenticate ? [deps.authenticate] : [];

  router.get('/cds-services', (_req, res) => {
    res.type('application/json').send(deps.catalog.discoveryJson);
  });

  router.post('/cds-services/:id', ...guarded, async (req, res) => {
    const started = process.hrtime.bigint();
    const service = deps.catalog.get(req.params.id as string);
    if (!service) throw unknownService(req.params.id as string);
    const request = validateHookRequest(req.body, service.definition.hook);
    const policyPageUrl = `${baseUrlOf(req, deps.publicBaseUrl)}${POLICY.pagePath}`;
    const { response, stats } = await runHookCall(deps, service, request, policyPageUrl);
    res.json(response);
    deps.logger.info(
      {
        requestId: res.locals.requestId,
        service: service.definition.id,
        // CDS Hooks makes hookInstance a UUID; anything else could carry caller data, so it stays out.
        ...(UUID.test(request.hookInstance) && { hookInstance: request.hookInstance }),
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        orders: stats.orders,
        cards: response.cards.length,
        fetchedKeys: stats.fetchedKeys,
        ...(stats.truncatedKeys.length > 0 && { truncatedKeys: stats.truncatedKeys }),
        ...(stats.skippedResources > 0 && { skippedResources: stats.skippedResources }),
        ...(stats.failedEvaluations > 0 && { failedEvaluations: stats.failedEvaluations }),
      },
      'hook call',
    );
  });

  router.post('/cds-services/:id/feedback', ...guarded, async (req, res) => {
    const service = deps.catalog.get(req.params.id as string);
    if (!service) throw unknownService(req.params.id as string);
    const items = validateFeedback(req.body);
    const receivedAt = new Date().toISOString();
    await deps.feedbackStore.add(items.map((feedback) => ({ serviceId: service.definition.id, receivedAt, feedback })));
    res.status(200).json({});
    deps.logger.info({ requestId: res.locals.requestId, service: service.definition.id, feedback: items.length }, 'feedback');
  });

  router.get(POLICY.pagePath, (_req, res) => {
    res
      .type('text/html; charset=utf-8')
      .setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(deps.policyPageHtml);
  });

  return router;
}
