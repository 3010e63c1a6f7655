/**
 * Turns every error into an OperationOutcome (errors.ts) with the right status. Body-parser
 * errors are mapped by their `type`; anything unexpected is a 500 whose message says nothing
 * about the cause (that goes to the log, with the request id, never the body).
 */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { HttpError, sendOperationOutcome } from './errors';
import type { Logger } from './logger';

const BODY_PARSER_ERRORS: Record<string, HttpError> = {
  'entity.too.large': new HttpError(413, 'payload-too-large', 'request body is larger than this service accepts'),
  'entity.parse.failed': new HttpError(400, 'invalid-request', 'request body is not valid JSON'),
  'entity.verify.failed': new HttpError(400, 'invalid-request', 'request body could not be verified'),
  'encoding.unsupported': new HttpError(415, 'unsupported-media-type', 'request body encoding is not supported'),
  'charset.unsupported': new HttpError(415, 'unsupported-media-type', 'request body charset is not supported'),
  'request.aborted': new HttpError(400, 'invalid-request', 'request body was not received completely'),
  'request.size.invalid': new HttpError(400, 'invalid-request', 'request body length does not match Content-Length'),
};

export const notFound: RequestHandler = (req, res) => {
  sendOperationOutcome(res, 404, 'not-found', `no route for ${req.method} ${req.path.slice(0, 200)}`);
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const type = (err as { type?: unknown } | null)?.type;
    const known = err instanceof HttpError ? err : typeof type === 'string' ? BODY_PARSER_ERRORS[type] : undefined;
    if (known) {
      if (known.status >= 500) logger.error({ requestId: res.locals.requestId, status: known.status, code: known.code }, 'request failed');
      if (!res.headersSent) sendOperationOutcome(res, known.status, known.code, known.message);
      return;
    }
    // The name and the stack frames only: the message (the stack's first line) may quote request data.
    // A message can span several lines, so keep only the lines that are frames.
    const stack = (err as Error | null)?.stack;
    const frames = typeof stack === 'string' ? stack.split('\n').filter((line) => /^\s+at /.test(line)).join('\n') : undefined;
    logger.error({ requestId: res.locals.requestId, errorName: (err as Error | null)?.name, stack: frames }, 'unexpected error');
    if (res.headersSent) {
      res.end();
      return;
    }
    sendOperationOutcome(res, 500, 'internal-error', 'the service failed to handle this request');
  };
}
