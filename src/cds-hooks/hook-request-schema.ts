/**
 * JSON Schema of a hook request: CDS Hooks 2.0 "HTTP Request" (https://cds-hooks.hl7.org/2.0/#http-request)
 * with the order-select / order-sign context of the CDS Hooks hook library
 * (https://cds-hooks.org/hooks/order-select/, https://cds-hooks.org/hooks/order-sign/). It says what this service reads; fields it
 * does not read are left alone (a client may send more). `messages` are the words a refusal says after the
 * field's name (./request-schema.ts).
 */
import type { SchemaObject } from 'ajv';
import { nonEmptyString } from './request-schema';
import type { HookName } from './types';

/** FHIR R4 id. Keeps patient ids from smuggling query syntax into prefetch URLs. */
const fhirId = { type: 'string', format: 'fhir-id', messages: { type: 'must be a non-empty string', format: 'must be a FHIR id (letters, digits, "-" and ".", at most 64)' } };

const reference = { type: 'string', format: 'relative-reference', messages: { type: 'must be a non-empty string', format: 'must be a "Type/id" reference' } };

/** What this service needs of any resource it is handed: a type, and an id that is a string when present. */
const fhirResource = {
  type: 'object',
  required: ['resourceType'],
  // Only an empty type is refused: a type this service does not know is skipped when the record is read.
  properties: { resourceType: { type: 'string', minLength: 1 }, id: { type: 'string' } },
  messages: { type: 'must be a FHIR resource (JSON object)', required: 'must be a FHIR resource (JSON object)' },
};

/** FHIR Bundle of the draft orders. The CDS Hooks sandbox sends it without `type`, so `type` is not required. */
const draftOrders = {
  type: 'object',
  resourceType: 'Bundle',
  properties: { entry: { type: 'array', items: { type: 'object', required: ['resource'], properties: { resource: fhirResource } } } },
  messages: { type: 'must be a FHIR Bundle' },
};

/** SMART access token for the EHR's FHIR server (CDS Hooks 2.0 "FHIR Resource Access"). */
const fhirAuthorization = {
  type: ['object', 'null'],
  required: ['access_token', 'token_type', 'expires_in', 'scope', 'subject'],
  properties: {
    access_token: nonEmptyString,
    token_type: { const: 'Bearer' },
    expires_in: { type: 'integer', minimum: 1, messages: { type: 'must be a positive integer', minimum: 'must be a positive integer' } },
    scope: nonEmptyString,
    subject: nonEmptyString,
    patient: nonEmptyString,
  },
};

/** Where the service fetches what prefetch lacks. Which servers a caller may name is decided after the schema (SSRF guard). */
const fhirServer = {
  type: ['string', 'null'],
  allOf: [
    { format: 'http-url', messages: { format: 'must be an absolute http(s) URL' } },
    { format: 'url-without-credentials', messages: { format: 'must not contain credentials' } },
  ],
};

const BODY_NOT_AN_OBJECT = 'must be a JSON object (Content-Type: application/json)';

/** The schema for one hook; order-select also requires the selected orders. */
export function hookRequestSchema(hook: HookName): SchemaObject {
  const context = {
    type: 'object',
    required: ['userId', 'patientId', 'draftOrders', ...(hook === 'order-select' ? ['selections'] : [])],
    properties: {
      userId: reference,
      patientId: fhirId,
      encounterId: fhirId,
      draftOrders,
      ...(hook === 'order-select' && {
        selections: {
          type: 'array',
          items: { ...reference, messages: { type: 'must be a "Type/id" reference', format: 'must be a "Type/id" reference' } },
          messages: { type: 'must be an array of "Type/id" strings', required: 'is required for order-select' },
        },
      }),
    },
  };
  return {
    type: 'object',
    required: ['hook', 'hookInstance', 'context'],
    properties: {
      hook: { ...nonEmptyString, const: hook, messages: { ...nonEmptyString.messages, const: `must be "${hook}" for this service` } },
      hookInstance: nonEmptyString,
      fhirServer,
      fhirAuthorization,
      extension: { type: ['object', 'null'] },
      context,
      /** Prefetch key -> resource, or null: "the EHR has no data for this key". */
      prefetch: { type: ['object', 'null'], additionalProperties: { ...fhirResource, type: ['object', 'null'] } },
    },
    messages: { type: BODY_NOT_AN_OBJECT, required: BODY_NOT_AN_OBJECT },
  };
}
