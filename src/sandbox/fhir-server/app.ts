/**
 * The embedded FHIR R4 server as an Express app, FHIR base at /fhir: CORS for browser clients, body parsing,
 * request logging without ids or contents, and errors turned into OperationOutcomes (never a stack trace).
 */
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { loadFhirDefinitions } from './definitions';
import type { IndexedRepository } from './indexed-repository';
import { FhirHttpError, operationOutcome } from './outcome';
import { JSON_TYPES, fhirRoutes, send } from './routes';

export interface FhirAppOptions {
  /** Receives one line per request (method, route shape, status, ms) and internal errors; silent without. */
  logger?: Logger;
  /** The store to serve; a new empty one by default. */
  repository?: IndexedRepository;
}

const MAX_BODY = '20mb';

export function createFhirApp(options: FhirAppOptions = {}): Express {
  loadFhirDefinitions();
  const app = express();
  app.disable('x-powered-by');
  // Resources carry their version as ETag; Express's body-hash ETags would only add 304s to searches.
  app.disable('etag');
  app.use(
    '/fhir',
    cors,
    requestLog(options.logger),
    express.json({ type: JSON_TYPES, limit: MAX_BODY }),
    express.text({ type: 'application/x-www-form-urlencoded', limit: MAX_BODY }),
    fhirRoutes(options.repository),
    errorHandler(options.logger),
  );
  app.use((req, res) => {
    send(res, 404, operationOutcome('error', 'not-found', `Nothing at ${req.path}; the FHIR base URL is /fhir`));
  });
  return app;
}

/** Any origin may call: the sandbox has no credentials to protect, and the CDS Hooks sandbox runs in a browser. */
function cors(req: Request, res: Response, next: NextFunction): void {
  res.set('Access-Control-Allow-Origin', '*');
  res.set('Access-Control-Expose-Headers', 'Location, ETag, Content-Location, Last-Modified');
  if (req.method !== 'OPTIONS') return next();
  res.set('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
  res.set(
    'Access-Control-Allow-Headers',
    'Authorization, Content-Type, Accept, Prefer, If-Match, If-None-Match, If-None-Exist, If-Modified-Since, X-Request-Id',
  );
  res.set('Access-Control-Max-Age', '600');
  // Chrome's Private Network Access asks before a public page (sandbox.cds-hooks.org) calls localhost.
  if (req.get('Access-Control-Request-Private-Network') === 'true') res.set('Access-Control-Allow-Private-Network', 'true');
  res.status(204).end();
}

function requestLog(logger: Logger | undefined): RequestHandler {
  return (req, res, next) => {
    if (!logger) return next();
    const started = performance.now();
    res.on('finish', () => {
      logger.info(
        { method: req.method, route: routeShape(req.path), status: res.statusCode, ms: Math.round(performance.now() - started) },
        'fhir request',
      );
    });
    next();
  };
}

/** `/Patient/p1/_history/3` -> `Patient/:id/_history/:vid`: the log keeps the shape of a request, not its ids. */
function routeShape(path: string): string {
  const [type = '', id, history, vid] = path.split('/').filter(Boolean);
  return [type.slice(0, 64), id && (id.startsWith('_') ? id : ':id'), history, vid && ':vid'].filter(Boolean).join('/');
}

const BODY_ERRORS: Record<string, string> = {
  'charset.unsupported': 'The request body must be UTF-8',
  'encoding.unsupported': 'The request body has an unsupported Content-Encoding',
};

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

function errorHandler(logger: Logger | undefined) {
  return (err: BodyParserError, req: Request, res: Response, _next: NextFunction): void => {
    if (err instanceof FhirHttpError) return send(res, err.status, err.outcome);
    if (err.type === 'entity.parse.failed') {
      return send(res, 400, operationOutcome('error', 'structure', 'The request body is not valid JSON'));
    }
    if (err.type === 'entity.too.large') {
      return send(res, 413, operationOutcome('error', 'too-costly', `The request body is larger than ${MAX_BODY}`));
    }
    if (err.status && err.status >= 400 && err.status < 500) {
      // Body-parser errors carry a type; Express's own (a URL with bad percent-encoding) do not.
      const text = err.type
        ? (BODY_ERRORS[err.type] ?? `The request body could not be read (${err.type})`)
        : 'The request URL could not be decoded';
      return send(res, err.status, operationOutcome('error', 'invalid', text));
    }
    logger?.error({ route: routeShape(req.path), error: err.message }, 'fhir sandbox internal error');
    send(res, 500, operationOutcome('error', 'exception', 'Internal error in the embedded FHIR sandbox'));
  };
}
