/**
 * Errors that become an HTTP answer. Every one carries a message safe to show the caller (it names
 * the field or the reason, never request data or internals). Every error answer of the hook
 * endpoints is a FHIR OperationOutcome (CRD hook-10): `issue[0].code` is the FHIR issue type,
 * `issue[0].details` carries this service's error code and the message, `diagnostics` the message too.
 */
import type { Response } from 'express';
import type { OperationOutcome } from 'fhir/r4';

export type ErrorCode =
  | 'invalid-request'
  | 'crd-rule-violation'
  | 'unauthorized'
  | 'not-found'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'prefetch-unavailable'
  | 'rate-limited'
  | 'deadline-exceeded'
  | 'unavailable'
  | 'internal-error';

/** This service's error codes, as `OperationOutcome.issue.details.coding`. */
export const ERROR_CODE_SYSTEM = 'http://intrathecal-cds.example.org/fhir/CodeSystem/error';

/** FHIR R4 IssueType for each error code (http://hl7.org/fhir/R4/valueset-issue-type.html). */
const ISSUE_TYPE: Record<ErrorCode, string> = {
  'invalid-request': 'invalid',
  'crd-rule-violation': 'business-rule',
  unauthorized: 'login',
  'not-found': 'not-found',
  'payload-too-large': 'too-costly',
  'unsupported-media-type': 'not-supported',
  'prefetch-unavailable': 'incomplete',
  'rate-limited': 'throttled',
  'deadline-exceeded': 'timeout',
  unavailable: 'transient',
  'internal-error': 'exception',
};

export function operationOutcome(code: ErrorCode, message: string): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: code === 'internal-error' ? 'fatal' : 'error',
        code: ISSUE_TYPE[code] as OperationOutcome['issue'][number]['code'],
        details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: message },
        diagnostics: message,
      },
    ],
  };
}

/** Writes an error answer: the status and an OperationOutcome with the FHIR JSON media type. */
export function sendOperationOutcome(res: Response, status: number, code: ErrorCode, message: string): void {
  res.status(status).type('application/fhir+json').send(JSON.stringify(operationOutcome(code, message)));
}

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

/** 422: valid CDS Hooks, but against a rule of Da Vinci CRD (hook-13). */
export function crdRuleViolation(message: string): HttpError {
  return new HttpError(422, 'crd-rule-violation', message);
}

export function unknownService(id: string): HttpError {
  return new HttpError(404, 'not-found', `unknown CDS service "${id.slice(0, 100)}"`);
}

/** CDS Hooks: a service that needs data it could not get answers 412. */
export function prefetchUnavailable(message: string): HttpError {
  return new HttpError(412, 'prefetch-unavailable', message);
}
