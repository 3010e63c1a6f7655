/** Call inputs and a database whose connection can be cut, for the storage suites. */
import { randomUUID } from 'node:crypto';
import type { CallInput } from '../../../src/storage/call-record';
import type { Database } from '../../../src/storage/database';

export const ASSERTION_EXTENSION = 'http://hl7.org/fhir/us/davinci-crd/StructureDefinition/ext-coverage-information';

/** A call as the route hands it over: an answer with one card and one coverage assertion. */
export function callInput(overrides: Partial<CallInput> & { hookInstance?: string; cardUuid?: string; assertionId?: string } = {}): CallInput {
  const hookInstance = overrides.hookInstance ?? randomUUID();
  const cardUuid = overrides.cardUuid ?? randomUUID();
  const assertionId = overrides.assertionId ?? `ca-${randomUUID()}`;
  return {
    serviceId: 'intrathecal-pump-order-sign',
    request: {
      hook: 'order-sign',
      hookInstance,
      fhirServer: 'https://ehr.example/fhir',
      fhirAuthorization: { access_token: 'secret-access-token', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds' },
      context: { patientId: 'p1' },
      prefetch: { patient: { resourceType: 'Patient', id: 'p1' } },
    },
    clientIssuer: 'https://ehr.example',
    receivedAt: new Date(),
    durationMs: 12.5,
    outcome: 'cards',
    httpStatus: 200,
    response: {
      cards: [{ uuid: cardUuid, summary: 'Criteria missing', extension: { order: 'ServiceRequest/pump-1' } }],
      systemActions: [
        {
          type: 'update',
          resource: {
            resourceType: 'ServiceRequest',
            id: 'pump-1',
            extension: [{ url: ASSERTION_EXTENSION, extension: [{ url: 'covered', valueCode: 'conditional' }, { url: 'coverage-assertion-id', valueString: assertionId }] }],
          },
        },
      ],
    },
    record: [
      { resourceType: 'Patient', id: 'p1', meta: { versionId: '3' } },
      { resourceType: 'Observation', id: 'o1' },
    ],
    fetchedKeys: ['observations'],
    truncatedKeys: [],
    evaluations: [
      {
        order: 'ServiceRequest/pump-1',
        criteria: [
          { id: 'age-18', status: 'met' },
          { id: 'psych-clearance', status: 'not-documented' },
        ],
      },
    ],
    timings: { totalMs: 12.5 },
    ...overrides,
  };
}

/** Wraps a database so a test can take it "down": every call then fails as a refused connection would. */
export function cuttable(db: Database): Database & { down: boolean } {
  const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  const wrapper: Database & { down: boolean } = {
    down: false,
    engine: db.engine,
    query: ((sql: string, params?: unknown[]) => (wrapper.down ? refuse() : db.query(sql, params))) as Database['query'],
    exec: (sql: string) => (wrapper.down ? refuse() : db.exec(sql)),
    transaction: (<T>(work: Parameters<Database['transaction']>[0]) => (wrapper.down ? refuse() : db.transaction(work))) as Database['transaction'],
    close: () => db.close(),
  };
  return wrapper as Database & { down: boolean };
}
