import express from 'express';
import request from 'supertest';
import { createHealthRouter, type ReadinessReport } from './health';

function app(readiness: () => ReadinessReport | Promise<ReadinessReport>) {
  const a = express();
  a.use(createHealthRouter(readiness));
  return a;
}

describe('GET /health', () => {
  it('answers 200 ok even while not ready', async () => {
    const response = await request(app(() => ({ elm: false, valueSets: false }))).get('/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['cache-control']).toBe('no-store');
  });
});

describe('GET /ready', () => {
  it('answers 200 when every part is loaded', async () => {
    const response = await request(app(() => ({ elm: true, valueSets: true }))).get('/ready');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ready', checks: { elm: true, valueSets: true } });
  });

  it('answers 503 and names what is missing', async () => {
    const response = await request(app(async () => ({ elm: true, valueSets: false }))).get('/ready');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'unavailable', checks: { elm: true, valueSets: false } });
  });

  it('follows the callback as loading progresses and shutdown begins', async () => {
    const state = { elm: false, valueSets: false, accepting: true };
    const server = app(() => ({ ...state }));
    expect((await request(server).get('/ready')).status).toBe(503);
    state.elm = true;
    state.valueSets = true;
    expect((await request(server).get('/ready')).status).toBe(200);
    state.accepting = false;
    expect((await request(server).get('/ready')).status).toBe(503);
  });

  it('answers 503 when the callback fails or reports nothing', async () => {
    const failing = app(() => {
      throw new Error('engine not created');
    });
    expect((await request(failing).get('/ready')).status).toBe(503);
    expect((await request(app(() => ({}))).get('/ready')).status).toBe(503);
  });
});
