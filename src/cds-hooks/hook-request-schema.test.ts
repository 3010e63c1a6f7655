/**
 * The hook request schema through its entry point, validateHookRequest: what it accepts (and hands on typed),
 * and the field each refusal names. test/cds-hooks/validation.test.ts holds the same refusals over HTTP.
 */
import { invalidRequestMessage } from '../../test/support/operation-outcome';
import type { HookName } from './types';
import { validateHookRequest } from './validate-request';

const order = { resourceType: 'ServiceRequest', id: 'sr-1', status: 'draft' };
const draftOrders = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] };
const auth = { access_token: 'opaque', token_type: 'Bearer', expires_in: 300, scope: 'user/*.read', subject: 'cds-service' };

function body(hook: HookName = 'order-sign', context: Record<string, unknown> = {}, top: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    hook,
    hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
    context: {
      userId: 'Practitioner/dr-1',
      patientId: 'p-1.a',
      draftOrders,
      ...(hook === 'order-select' && { selections: ['ServiceRequest/sr-1'] }),
      ...context,
    },
    ...top,
  };
}

const refusal = (request: unknown, hook: HookName = 'order-sign'): string => invalidRequestMessage(() => validateHookRequest(request, hook));

describe('hook requests the schema accepts', () => {
  it('order-sign: returns the fields the service reads, prefetch empty when absent', () => {
    const request = validateHookRequest(body('order-sign', { selections: 'ignored on order-sign' }, { unknownField: 1 }), 'order-sign');
    expect(request).toEqual({
      hook: 'order-sign',
      hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea',
      context: { userId: 'Practitioner/dr-1', patientId: 'p-1.a', draftOrders },
      prefetch: {},
    });
  });

  it('order-select: keeps the selections', () => {
    expect(validateHookRequest(body('order-select'), 'order-select').context.selections).toEqual(['ServiceRequest/sr-1']);
  });

  it('keeps fhirServer, the five token fields (and patient), extension and prefetch; drops unknown token fields', () => {
    const prefetch = { patient: { resourceType: 'Patient', id: 'p-1.a' }, coverage: null };
    const request = validateHookRequest(
      body('order-sign', { encounterId: 'enc-1' }, {
        fhirServer: 'https://ehr.example.org/fhir',
        fhirAuthorization: { ...auth, patient: 'p-1.a', refresh_token: 'not ours' },
        extension: { 'davinci-crd.configuration': { 'coverage-info': true } },
        prefetch,
      }),
      'order-sign',
    );
    expect(request.fhirAuthorization).toEqual({ ...auth, patient: 'p-1.a' });
    expect(request).toMatchObject({ fhirServer: 'https://ehr.example.org/fhir', extension: { 'davinci-crd.configuration': { 'coverage-info': true } }, prefetch });
    expect(request.context.encounterId).toBe('enc-1');
  });

  it('reads JSON null in an optional field as absent', () => {
    const request = validateHookRequest(body('order-sign', {}, { fhirServer: null, fhirAuthorization: null, extension: null, prefetch: null }), 'order-sign');
    expect(request).not.toHaveProperty('fhirServer');
    expect(request).not.toHaveProperty('fhirAuthorization');
    expect(request).not.toHaveProperty('extension');
    expect(request.prefetch).toEqual({});
  });

  it('accepts a draftOrders Bundle without type or entry (the CDS Hooks sandbox omits type)', () => {
    expect(validateHookRequest(body('order-sign', { draftOrders: { resourceType: 'Bundle' } }), 'order-sign').context.draftOrders).toEqual({ resourceType: 'Bundle' });
  });
});

describe('hook requests the schema refuses, each naming its field', () => {
  it.each<[string, unknown, string, HookName?]>([
    ['not an object', 'order-sign', 'request body must be a JSON object (Content-Type: application/json)'],
    ['null body', null, 'request body must be a JSON object (Content-Type: application/json)'],
    ['hook null', body('order-sign', {}, { hook: null }), 'hook is required'],
    ['hook of the other hook', body('order-select'), 'hook must be "order-sign" for this service'],
    ['hookInstance blank', body('order-sign', {}, { hookInstance: '  ' }), 'hookInstance must be a non-empty string'],
    ['context not an object', body('order-sign', {}, { context: [] }), 'context must be an object'],
    ['userId a number', body('order-sign', { userId: 7 }), 'context.userId must be a non-empty string'],
    ['userId without a type', body('order-sign', { userId: 'Practitionerdr-1' }), 'context.userId must be a "Type/id" reference'],
    ['userId with a lower-case type', body('order-sign', { userId: 'practitioner/dr-1' }), 'context.userId must be a "Type/id" reference'],
    ['userId with a version', body('order-sign', { userId: 'Practitioner/dr-1/_history/2' }), 'context.userId must be a "Type/id" reference'],
    ['userId a relative path', body('order-sign', { userId: 'Practitioner/../x' }), 'context.userId must be a "Type/id" reference'],
    ['patientId over 64 characters', body('order-sign', { patientId: 'p'.repeat(65) }), 'context.patientId must be a FHIR id (letters, digits, "-" and ".", at most 64)'],
    ['patientId with a slash', body('order-sign', { patientId: 'a/b' }), 'context.patientId must be a FHIR id (letters, digits, "-" and ".", at most 64)'],
    ['encounterId null', body('order-sign', { encounterId: null }), 'context.encounterId is required'],
    ['draftOrders null', body('order-sign', { draftOrders: null }), 'context.draftOrders is required'],
    ['draftOrders an array', body('order-sign', { draftOrders: [] }), 'context.draftOrders must be a FHIR Bundle'],
    ['draftOrders entry not an object', body('order-sign', { draftOrders: { resourceType: 'Bundle', entry: ['x'] } }), 'context.draftOrders.entry[0] must be an object'],
    ['draftOrders entry without resource', body('order-sign', { draftOrders: { resourceType: 'Bundle', entry: [{}] } }), 'context.draftOrders.entry[0].resource must be a FHIR resource (JSON object)'],
    ['draft order id not a string', body('order-sign', { draftOrders: { resourceType: 'Bundle', entry: [{ resource: { ...order, id: { toString: 1 } } }] } }), 'context.draftOrders.entry[0].resource.id must be a string'],
    ['draft order resourceType empty', body('order-sign', { draftOrders: { resourceType: 'Bundle', entry: [{ resource: { resourceType: '' } }] } }), 'context.draftOrders.entry[0].resource.resourceType must be a non-empty string'],
    ['selections null on order-select', body('order-select', { selections: null }), 'context.selections is required for order-select', 'order-select'],
    ['selection a number', body('order-select', { selections: [5] }), 'context.selections[0] must be a "Type/id" reference', 'order-select'],
    ['selection not among the drafts', body('order-select', { selections: ['ServiceRequest/sr-1', 'DeviceRequest/sr-1'] }), 'context.selections[1] (DeviceRequest/sr-1) is not in context.draftOrders', 'order-select'],
    ['fhirServer a number', body('order-sign', {}, { fhirServer: 42 }), 'fhirServer must be a string'],
    ['fhirServer not a URL', body('order-sign', {}, { fhirServer: 'ehr.example.org' }), 'fhirServer must be an absolute http(s) URL'],
    ['fhirServer with credentials', body('order-sign', {}, { fhirServer: 'https://user:secret@ehr.example.org/fhir' }), 'fhirServer must not contain credentials'],
    ['fhirAuthorization without fhirServer (null)', body('order-sign', {}, { fhirServer: null, fhirAuthorization: auth }), 'fhirServer is required when fhirAuthorization is present'],
    ['token_type missing', body('order-sign', {}, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, token_type: undefined } }), 'fhirAuthorization.token_type is required'],
    ['expires_in zero', body('order-sign', {}, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, expires_in: 0 } }), 'fhirAuthorization.expires_in must be a positive integer'],
    ['expires_in a fraction', body('order-sign', {}, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, expires_in: 1.5 } }), 'fhirAuthorization.expires_in must be a positive integer'],
    ['access_token blank', body('order-sign', {}, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, access_token: ' ' } }), 'fhirAuthorization.access_token must be a non-empty string'],
    ['token patient empty', body('order-sign', {}, { fhirServer: 'https://ehr.example.org/fhir', fhirAuthorization: { ...auth, patient: '' } }), 'fhirAuthorization.patient must be a non-empty string'],
    ['extension an array', body('order-sign', {}, { extension: [] }), 'extension must be an object'],
    ['prefetch a string', body('order-sign', {}, { prefetch: 'x' }), 'prefetch must be an object'],
    ['prefetch value a string', body('order-sign', {}, { prefetch: { patient: 'Patient/p-1' } }), 'prefetch.patient must be a FHIR resource (JSON object)'],
    ['prefetch value id a number', body('order-sign', {}, { prefetch: { patient: { resourceType: 'Patient', id: 1 } } }), 'prefetch.patient.id must be a string'],
  ])('%s', (_name, request, message, hook = 'order-sign') => {
    expect(refusal(request, hook)).toBe(message);
  });
});
