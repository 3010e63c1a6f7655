/**
 * Checks a hook request body against CDS Hooks 2.0 and the order-select / order-sign context
 * (CDS Hooks library 1.0.1), and returns it typed. Every failure is a 400 whose message names
 * the field. Fields we do not read are left alone.
 */
import type { Bundle, Resource } from 'fhir/r4';
import { invalid } from './errors';
import type { FhirAuthorization, HookContext, HookName, HookRequest } from './types';

type Json = Record<string, unknown>;

/** FHIR R4 id datatype. Keeps patient ids from smuggling query syntax into prefetch URLs; `.` and `..` are path steps, not ids. */
const FHIR_ID = /^(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;
/** `Type/id`, as context.userId and selections use. */
const RELATIVE_REFERENCE = /^[A-Z][A-Za-z]+\/(?!\.+$)[A-Za-z0-9\-.]{1,64}$/;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requiredString(obj: Json, key: string, path: string): string {
  const value = obj[key];
  if (value === undefined || value === null) throw invalid(`${path} is required`);
  if (typeof value !== 'string' || value.trim() === '') throw invalid(`${path} must be a non-empty string`);
  return value;
}

function optionalString(obj: Json, key: string, path: string): string | undefined {
  return obj[key] === undefined ? undefined : requiredString(obj, key, path);
}

function validateFhirServer(value: unknown): string {
  if (typeof value !== 'string') throw invalid('fhirServer must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid('fhirServer must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid('fhirServer must be an absolute http(s) URL');
  if (url.username !== '' || url.password !== '') throw invalid('fhirServer must not contain credentials');
  return value;
}

function validateAuthorization(value: unknown): FhirAuthorization {
  if (!isObject(value)) throw invalid('fhirAuthorization must be an object');
  const accessToken = requiredString(value, 'access_token', 'fhirAuthorization.access_token');
  if (value.token_type !== 'Bearer') throw invalid('fhirAuthorization.token_type must be "Bearer"');
  const expiresIn = value.expires_in;
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn <= 0) {
    throw invalid('fhirAuthorization.expires_in must be a positive integer');
  }
  const scope = requiredString(value, 'scope', 'fhirAuthorization.scope');
  const subject = requiredString(value, 'subject', 'fhirAuthorization.subject');
  const patient = optionalString(value, 'patient', 'fhirAuthorization.patient');
  return { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, scope, subject, ...(patient && { patient }) };
}

function validateResource(value: unknown, path: string): Resource {
  if (!isObject(value)) throw invalid(`${path} must be a FHIR resource (JSON object)`);
  if (typeof value.resourceType !== 'string' || value.resourceType === '') throw invalid(`${path}.resourceType is required`);
  if (value.id !== undefined && typeof value.id !== 'string') throw invalid(`${path}.id must be a string`);
  return value as unknown as Resource;
}

function validateDraftOrders(value: unknown): Bundle {
  const path = 'context.draftOrders';
  if (value === undefined || value === null) throw invalid(`${path} is required`);
  if (!isObject(value) || value.resourceType !== 'Bundle') throw invalid(`${path} must be a FHIR Bundle`);
  // The CDS Hooks sandbox sends the Bundle without `type`; accept it.
  if (value.entry !== undefined) {
    if (!Array.isArray(value.entry)) throw invalid(`${path}.entry must be an array`);
    value.entry.forEach((entry, i) => {
      if (!isObject(entry)) throw invalid(`${path}.entry[${i}] must be an object`);
      validateResource(entry.resource, `${path}.entry[${i}].resource`);
    });
  }
  return value as unknown as Bundle;
}

function validateSelections(value: unknown, draftOrders: Bundle): string[] {
  const path = 'context.selections';
  if (value === undefined || value === null) throw invalid(`${path} is required for order-select`);
  if (!Array.isArray(value)) throw invalid(`${path} must be an array of "Type/id" strings`);
  const present = new Set(
    (draftOrders.entry ?? []).flatMap((e) => (e.resource?.id ? [`${e.resource.resourceType}/${e.resource.id}`] : [])),
  );
  value.forEach((selection, i) => {
    if (typeof selection !== 'string' || !RELATIVE_REFERENCE.test(selection)) {
      throw invalid(`${path}[${i}] must be a "Type/id" reference`);
    }
    if (!present.has(selection)) throw invalid(`${path}[${i}] (${selection}) is not in context.draftOrders`);
  });
  return value as string[];
}

function validateContext(value: unknown, hook: HookName): HookContext {
  if (value === undefined || value === null) throw invalid('context is required');
  if (!isObject(value)) throw invalid('context must be an object');
  const userId = requiredString(value, 'userId', 'context.userId');
  if (!RELATIVE_REFERENCE.test(userId)) throw invalid('context.userId must be a "Type/id" reference');
  const patientId = requiredString(value, 'patientId', 'context.patientId');
  if (!FHIR_ID.test(patientId)) throw invalid('context.patientId must be a FHIR id (letters, digits, "-" and ".", at most 64)');
  const encounterId = optionalString(value, 'encounterId', 'context.encounterId');
  if (encounterId !== undefined && !FHIR_ID.test(encounterId)) throw invalid('context.encounterId must be a FHIR id (letters, digits, "-" and ".", at most 64)');
  const draftOrders = validateDraftOrders(value.draftOrders);
  const context: HookContext = { userId, patientId, draftOrders, ...(encounterId && { encounterId }) };
  if (hook === 'order-select') context.selections = validateSelections(value.selections, draftOrders);
  return context;
}

function validatePrefetch(value: unknown): Record<string, Resource | null> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw invalid('prefetch must be an object');
  const prefetch: Record<string, Resource | null> = {};
  for (const [key, item] of Object.entries(value)) {
    prefetch[key] = item === null ? null : validateResource(item, `prefetch.${key}`);
  }
  return prefetch;
}

/** Throws HttpError 400 on the first problem found. */
export function validateHookRequest(body: unknown, expectedHook: HookName): HookRequest {
  if (!isObject(body)) throw invalid('request body must be a JSON object (Content-Type: application/json)');
  const hook = requiredString(body, 'hook', 'hook');
  if (hook !== expectedHook) throw invalid(`hook must be "${expectedHook}" for this service`);
  const hookInstance = requiredString(body, 'hookInstance', 'hookInstance');

  const fhirAuthorization = body.fhirAuthorization === undefined || body.fhirAuthorization === null
    ? undefined
    : validateAuthorization(body.fhirAuthorization);
  let fhirServer: string | undefined;
  if (body.fhirServer !== undefined && body.fhirServer !== null) fhirServer = validateFhirServer(body.fhirServer);
  else if (fhirAuthorization) throw invalid('fhirServer is required when fhirAuthorization is present');

  if (body.extension !== undefined && body.extension !== null && !isObject(body.extension)) throw invalid('extension must be an object');

  return {
    hook: expectedHook,
    hookInstance,
    ...(isObject(body.extension) && { extension: body.extension }),
    ...(fhirServer && { fhirServer }),
    ...(fhirAuthorization && { fhirAuthorization }),
    context: validateContext(body.context, expectedHook),
    prefetch: validatePrefetch(body.prefetch),
  };
}
