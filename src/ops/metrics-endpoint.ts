/**
 * GET /metrics in the Prometheus text format. Mounted before client authentication (Prometheus
 * carries no CDS Client JWT); when METRICS_TOKEN is set, the scraper must send it as a bearer token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createMetricsRouter(registry: Registry, options: { bearerToken?: string } = {}): Router {
  const router = Router();
  const expected = options.bearerToken ? digest(options.bearerToken) : undefined;
  router.get('/metrics', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (expected) {
      const header = req.get('authorization') ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1] ?? '';
      // Compare digests: equal length, constant time.
      if (!timingSafeEqual(digest(token), expected)) {
        res.status(401).set('WWW-Authenticate', 'Bearer realm="metrics"').json({ error: 'unauthorized', message: 'metrics need the configured bearer token' });
        return;
      }
    }
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
