/**
 * The FHIR REST interactions under /fhir. Thin handlers: check the request, let Medplum's FhirRouter over our
 * IndexedRepository do the work, and add what Medplum leaves to the HTTP layer (status codes, Location/ETag,
 * paging links, OperationOutcomes that name the problem). Every fhirRoutes() has its own repository unless it is
 * given one, so every server has its own data.
 */
import { getStatus, isOk } from '@medplum/core';
import { FhirRouter, type FhirResponse, type HttpMethod } from '@medplum/fhir-router';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { Bundle, Resource } from 'fhir/r4';
import { checkBundle } from './bundle-check';
import { capabilityStatement } from './capability';
import { isFhirId, isKnownResourceType } from './definitions';
import { IndexedRepository } from './indexed-repository';
import { FhirHttpError, badRequest } from './outcome';
import { decorateSearchset } from './paging';
import { normalizeSearch, repositoryQuery, type QueryPairs } from './search-params';
import { failedEntry, resolveConditionalReferences } from './transaction';

export const JSON_TYPES = ['application/json', 'application/fhir+json', 'application/json+fhir', 'application/json-patch+json'];

export function fhirRoutes(repo: IndexedRepository = new IndexedRepository()): Router {
  const medplum = new FhirRouter();
  const routes = express.Router();

  const call = (req: Request, method: HttpMethod, url: string, body?: unknown, query: Record<string, string[]> = {}) =>
    medplum.handleRequest(
      // Transactions are run as batches inside repo.transaction() (see transaction.ts), so Medplum's limits on them do not apply.
      { method, url, pathname: '', body, params: {}, query, headers: req.headers, config: { transactions: false } },
      repo,
    );

  routes.get('/metadata', (req, res) => {
    send(res, 200, capabilityStatement(baseUrl(req)));
  });

  routes.post('/', async (req, res) => {
    const bundle = await resolveConditionalReferences(checkBundle(jsonBody(req)), repo);
    if (bundle.type === 'batch') return reply(req, res, await call(req, 'POST', '', bundle));
    const response = await repo.transaction(
      () => call(req, 'POST', '', bundle),
      ([outcome, result]) => !isOk(outcome) || failedEntry(result as Bundle) !== undefined,
    );
    const failure = isOk(response[0]) ? failedEntry(response[1] as Bundle) : undefined;
    if (failure) throw failure;
    reply(req, res, response);
  });

  routes.param('type', (_req, _res, next: NextFunction, type: string) => {
    next(isKnownResourceType(type) ? undefined : badRequest(`Unknown resource type '${type}'`));
  });

  const search = async (req: Request, res: Response, formParams: QueryPairs) => {
    const type = req.params.type as string;
    const normalized = normalizeSearch(type, [...urlParams(req), ...formParams]);
    const [outcome, bundle] = await call(req, 'GET', type, undefined, repositoryQuery(normalized));
    if (!isOk(outcome) || !bundle) return reply(req, res, [outcome]);
    send(res, 200, decorateSearchset(bundle as Bundle, baseUrl(req), type, normalized));
  };
  routes.get('/:type', (req, res) => search(req, res, []));
  // The CDS Hooks sandbox (and other browsers' clients) search by POSTing a form body.
  routes.post('/:type/_search', (req, res) => search(req, res, formParams(req)));

  routes.post('/:type', async (req, res) => {
    const resource = resourceBody(req);
    reply(req, res, await call(req, 'POST', req.params.type as string, resource));
  });

  routes.put('/:type/:id', async (req, res) => {
    const { type, id } = req.params as { type: string; id: string };
    const resource = resourceBody(req);
    if (!isFhirId(id)) throw badRequest(`'${id}' is not a valid FHIR id`);
    if (resource.id !== id) throw badRequest(`The resource id '${String(resource.id)}' does not match the URL id '${id}'`, 'id');
    const existed = await repo.readResource(type, id).then(
      () => true,
      () => false,
    );
    // FHIR update-as-create answers 201; Medplum answers 200 either way.
    reply(req, res, await call(req, 'PUT', `${type}/${id}`, resource), existed ? 200 : 201);
  });

  const passThrough = async (req: Request, res: Response) => {
    reply(req, res, await call(req, req.method as HttpMethod, req.path, req.body));
  };
  routes.get('/:type/:id', passThrough);
  routes.get('/:type/:id/_history', passThrough);
  routes.get('/:type/:id/_history/:vid', passThrough);
  routes.delete('/:type/:id', passThrough);
  routes.patch('/:type/:id', passThrough);

  routes.use((req) => {
    throw new FhirHttpError(404, 'not-supported', `This server has no FHIR interaction for ${req.method} ${req.baseUrl}${req.path}`);
  });
  return routes;
}

/** Writes Medplum's answer: the resource on success, else its OperationOutcome. */
function reply(req: Request, res: Response, [outcome, resource]: FhirResponse, successStatus?: number): void {
  const status = getStatus(outcome);
  if (!isOk(outcome)) {
    if (status === 404 && req.params.id) {
      throw new FhirHttpError(404, 'not-found', `${req.params.type}/${req.params.id} was not found`);
    }
    if (status >= 500) throw new Error(`Medplum answered ${status}: ${outcome.issue?.[0]?.details?.text ?? ''}`);
    send(res, status, outcome);
    return;
  }
  const body = (resource ?? outcome) as Resource;
  const version = body.meta?.versionId;
  if (version) res.set('ETag', `W/"${version}"`);
  if (body.meta?.lastUpdated) res.set('Last-Modified', new Date(body.meta.lastUpdated).toUTCString());
  const finalStatus = successStatus ?? status;
  if (finalStatus === 201 && body.id) {
    res.set('Location', `${baseUrl(req)}/${body.resourceType}/${body.id}${version ? `/_history/${version}` : ''}`);
  }
  send(res, finalStatus, body);
}

export function send(res: Response, status: number, body: unknown): void {
  res.status(status).type('application/fhir+json; charset=utf-8').send(JSON.stringify(body));
}

/** The base URL as the caller addressed it, so links work through port mappings. */
function baseUrl(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}`;
}

function urlParams(req: Request): QueryPairs {
  return [...new URL(req.originalUrl, 'http://placeholder').searchParams];
}

function formParams(req: Request): QueryPairs {
  if (req.body === undefined) return [];
  if (typeof req.body !== 'string') {
    throw new FhirHttpError(415, 'not-supported', 'POST _search takes an application/x-www-form-urlencoded body');
  }
  return [...new URLSearchParams(req.body)];
}

function jsonBody(req: Request): Record<string, unknown> {
  if (req.body === undefined) {
    if (req.is(JSON_TYPES)) throw badRequest('The request body is empty');
    throw new FhirHttpError(415, 'not-supported', 'Send the body as JSON with Content-Type: application/fhir+json');
  }
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
    throw badRequest('The request body must be a FHIR resource (a JSON object)');
  }
  return req.body as Record<string, unknown>;
}

function resourceBody(req: Request): Resource {
  const resource = jsonBody(req) as unknown as Resource;
  const type = req.params.type;
  if (typeof resource.resourceType !== 'string') {
    throw badRequest('The request body is not a FHIR resource: resourceType is missing', 'resourceType');
  }
  if (resource.resourceType !== type) {
    throw badRequest(`The body's resourceType '${resource.resourceType}' does not match the URL type '${type}'`, 'resourceType');
  }
  return resource;
}
