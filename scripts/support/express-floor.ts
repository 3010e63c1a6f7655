/**
 * The floor of bench:hooks: an Express server that does what any CDS service must (parse the same
 * JSON body with the same limit) and answers a fixed card, nothing else. Its figures are what
 * HTTP, JSON and Express cost on this machine; the service's ratio to it is what the rest costs.
 * Listens on 127.0.0.1:PORT; one process, like one service worker.
 */
import express from 'express';

const CARD = {
  cards: [
    {
      uuid: '00000000-0000-4000-8000-000000000000',
      summary: 'Implanted pump: 2 criteria not documented',
      indicator: 'warning',
      source: { label: 'Express floor' },
      detail: 'A fixed card.',
    },
  ],
};

const app = express();
app.disable('x-powered-by');
app.use(express.json({ limit: Number(process.env.MAX_BODY_BYTES ?? 16 * 1024 * 1024), type: ['application/json', 'application/*+json'] }));
app.get('/health', (_req, res) => res.json({ status: 'ok' }));
app.post('/cds-services/:id', (req, res) => {
  if (typeof req.body?.hook !== 'string') return res.status(400).json({ error: 'hook is required' });
  res.json(CARD);
});
app.listen(Number(process.env.PORT), '127.0.0.1');
