import { outcome } from '../../test/support/operation-outcome';
import express from 'express';
import request from 'supertest';
import { DeadlineExceededError, respondDeadlineExceeded, withDeadline } from './deadline';

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves with the value when the work finishes first', async () => {
    const outcome = withDeadline(Promise.resolve(42), 4500);
    await expect(outcome).resolves.toEqual({ kind: 'done', value: 42 });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('resolves deadline-exceeded when the work is still running at the deadline, and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const outcome = withDeadline((signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    }, 4500);
    expect(seen?.aborted).toBe(false);
    jest.advanceTimersByTime(4499);
    expect(seen?.aborted).toBe(false);
    jest.advanceTimersByTime(1);
    await expect(outcome).resolves.toEqual({ kind: 'deadline-exceeded', deadlineMs: 4500 });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(DeadlineExceededError);
  });

  it('passes a failure before the deadline through unchanged', async () => {
    const failure = new Error('FHIR server unreachable');
    await expect(withDeadline(Promise.reject(failure), 4500)).rejects.toBe(failure);
    await expect(
      withDeadline(() => {
        throw failure;
      }, 4500),
    ).rejects.toBe(failure);
  });

  it('swallows a failure that arrives after the deadline', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      let fail!: (error: Error) => void;
      const outcome = withDeadline(new Promise<never>((_resolve, reject) => (fail = reject)), 100);
      jest.advanceTimersByTime(100);
      await expect(outcome).resolves.toEqual({ kind: 'deadline-exceeded', deadlineMs: 100 });
      fail(new Error('late'));
      jest.useRealTimers();
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('respondDeadlineExceeded', () => {
  it('answers 503 with Retry-After and says no guidance was produced', async () => {
    const app = express();
    app.post('/cds-services/:id', async (_req, res) => {
      const outcome = await withDeadline(new Promise<never>(() => undefined), 20);
      if (outcome.kind === 'deadline-exceeded') respondDeadlineExceeded(res, outcome.deadlineMs);
    });
    const response = await request(app).post('/cds-services/pump-order-sign');
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toEqual(
      outcome('deadline-exceeded', 'The service could not evaluate the order within 20 ms; no coverage guidance was produced. Retry, or continue without it.'),
    );
  });

  it('leaves a response that was already sent alone', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.json({ cards: [] });
      respondDeadlineExceeded(res, 4500);
    });
    const response = await request(app).get('/');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ cards: [] });
  });
});
