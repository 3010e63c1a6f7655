/**
 * Errors that become an HTTP answer. Every one carries a message safe to show the caller
 * (it names the field or the reason, never request data or internals); the app's error
 * handler turns it into `{ "error": code, "message": message }`.
 */
export type ErrorCode =
  | 'invalid-request'
  | 'not-found'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'prefetch-unavailable'
  | 'internal-error';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** 400 naming the field that is wrong. */
export function invalid(message: string): HttpError {
  return new HttpError(400, 'invalid-request', message);
}

export function unknownService(id: string): HttpError {
  return new HttpError(404, 'not-found', `unknown CDS service "${id.slice(0, 100)}"`);
}

/** CDS Hooks: a service that needs data it could not get answers 412. */
export function prefetchUnavailable(message: string): HttpError {
  return new HttpError(412, 'prefetch-unavailable', message);
}
