/**
 * What an error answer of the hook endpoints looks like (src/cds-hooks/errors.ts): an OperationOutcome
 * whose one issue carries this service's error code and the message. `message` may be an asymmetric
 * matcher (expect.stringMatching(...)).
 */
import { ERROR_CODE_SYSTEM, type ErrorCode } from '../../src/cds-hooks/errors';

export function outcome(code: ErrorCode, message: unknown) {
  return {
    resourceType: 'OperationOutcome',
    issue: [
      {
        severity: code === 'internal-error' ? 'fatal' : 'error',
        code: expect.any(String),
        details: { coding: [{ system: ERROR_CODE_SYSTEM, code }], text: message },
        diagnostics: message,
      },
    ],
  };
}

interface OutcomeBody {
  issue?: Array<{ details?: { text?: string; coding?: Array<{ code?: string }> } }>;
}

export function messageOf(body: unknown): string | undefined {
  return (body as OutcomeBody | undefined)?.issue?.[0]?.details?.text;
}

export function errorCodeOf(body: unknown): string | undefined {
  return (body as OutcomeBody | undefined)?.issue?.[0]?.details?.coding?.[0]?.code;
}

/** The message of the 400 invalid-request error `validate` throws; fails the test when it throws none. */
export function invalidRequestMessage(validate: () => unknown): string {
  try {
    validate();
  } catch (error) {
    expect(error).toMatchObject({ status: 400, code: 'invalid-request' });
    return (error as Error).message;
  }
  throw new Error('accepted');
}
