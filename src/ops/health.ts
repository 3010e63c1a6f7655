/**
 * Liveness and readiness for orchestrators and load balancers. Mount before client
 * authentication: probes carry no CDS Client JWT.
 *   GET /health  the process is up and serving HTTP (200 always).
 *   GET /ready   the service can evaluate: the readiness callback reports every part loaded
 *                (e.g. ELM, value sets) and not shutting down; 503 otherwise.
 */
import { Router } from 'express';

/** Named parts and whether each is ready, e.g. `{ elm: true, valueSets: false }`. */
export type ReadinessReport = Record<string, boolean>;

export function createHealthRouter(readiness: () => ReadinessReport | Promise<ReadinessReport>): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/ready', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    let checks: ReadinessReport;
    try {
      checks = await readiness();
    } catch {
      res.status(503).json({ status: 'unavailable', checks: {} });
      return;
    }
    const ready = Object.keys(checks).length > 0 && Object.values(checks).every((ok) => ok === true);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}
