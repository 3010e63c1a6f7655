/**
 * The deadline of a whole hook call. Da Vinci CRD expects cards within 5 seconds; past that the
 * EHR may abandon the call, so we stop at 4.5 s (config.hookDeadlineMs) and give a defined answer
 * the EHR can act on instead of a hang or a late reply nobody reads. docs/security.md explains why
 * that answer is 503 with Retry-After.
 */
import type { Response } from 'express';
import { sendOperationOutcome } from '../cds-hooks/errors';

export type DeadlineOutcome<T> = { kind: 'done'; value: T } | { kind: 'deadline-exceeded'; deadlineMs: number };

export const DEADLINE_EXCEEDED_STATUS = 503;

/** The reason given to the AbortSignal when the deadline passes. */
export class DeadlineExceededError extends Error {
  constructor(readonly deadlineMs: number) {
    super(`hook deadline of ${deadlineMs} ms exceeded`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Runs `work` against a deadline. `work` receives an AbortSignal that fires at the deadline; pass it
 * on (the FHIR fetcher's signal) so outstanding FHIR requests stop instead of running on unseen.
 * Resolves `{ kind: 'done' }` with the value, or `{ kind: 'deadline-exceeded' }` once `ms` has
 * passed; a rejection of `work` before the deadline is passed through unchanged, one after it is
 * swallowed (nobody is waiting for it any more).
 */
export function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  ms: number,
): Promise<DeadlineOutcome<T>> {
  const controller = new AbortController();
  let promise: Promise<T>;
  try {
    promise = typeof work === 'function' ? work(controller.signal) : work;
  } catch (error) {
    return Promise.reject(error);
  }
  return new Promise<DeadlineOutcome<T>>((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort(new DeadlineExceededError(ms));
      resolve({ kind: 'deadline-exceeded', deadlineMs: ms });
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'done', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * Answers a hook call whose deadline passed: 503 and Retry-After, and a body saying that no
 * coverage guidance was produced (so nobody reads the silence as "no requirements").
 */
export function respondDeadlineExceeded(res: Response, deadlineMs: number, retryAfterSeconds = 1): void {
  if (res.headersSent) return;
  res.set('Retry-After', String(retryAfterSeconds));
  sendOperationOutcome(
    res,
    DEADLINE_EXCEEDED_STATUS,
    'deadline-exceeded',
    `The service could not evaluate the order within ${deadlineMs} ms; no coverage guidance was produced. Retry, or continue without it.`,
  );
}
