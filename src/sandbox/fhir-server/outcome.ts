/** OperationOutcome bodies and the error that carries one to the HTTP layer. */
import type { OperationOutcome } from 'fhir/r4';

type IssueCode = OperationOutcome['issue'][number]['code'];

export function operationOutcome(
  severity: 'error' | 'warning' | 'information',
  code: IssueCode,
  text: string,
  expression?: string,
): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code, diagnostics: text, ...(expression ? { expression: [expression] } : {}) }],
  };
}

/** A request the server refuses; the HTTP layer answers `status` with `outcome`. */
export class FhirHttpError extends Error {
  readonly outcome: OperationOutcome;

  constructor(
    readonly status: number,
    code: IssueCode,
    text: string,
    expression?: string,
  ) {
    super(text);
    this.outcome = operationOutcome('error', code, text, expression);
  }
}

export function badRequest(text: string, expression?: string): FhirHttpError {
  return new FhirHttpError(400, 'invalid', text, expression);
}

export function notSupported(text: string, expression?: string): FhirHttpError {
  return new FhirHttpError(400, 'not-supported', text, expression);
}
