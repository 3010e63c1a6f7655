/**
 * Checks a hook request body against CDS Hooks 2.0 and the order-select / order-sign context
 * (./hook-request-schema.ts, compiled once per hook when this module loads), then the rules that span
 * fields, and returns it typed. Every failure is a 400 whose message names the field. Fields we do not
 * read are left alone.
 */
import type { Bundle, Resource } from 'fhir/r4';
import { invalid } from './errors';
import { hookRequestSchema } from './hook-request-schema';
import { compileRequestSchema } from './request-schema';
import { HOOK_NAMES, type FhirAuthorization, type HookName, type HookRequest } from './types';

/** A body the schema accepted: JSON null stands for an absent optional field. */
interface SchemaValidRequest {
  hook: HookName;
  hookInstance: string;
  fhirServer?: string | null;
  fhirAuthorization?: FhirAuthorization | null;
  extension?: Record<string, unknown> | null;
  context: { userId: string; patientId: string; encounterId?: string; draftOrders: Bundle; selections?: string[] };
  prefetch?: Record<string, Resource | null> | null;
}

const validators = new Map(HOOK_NAMES.map((hook) => [hook, compileRequestSchema<SchemaValidRequest>(hookRequestSchema(hook))]));

/** Each selection must name a draft order by its `Type/id` (order-select context). */
function checkSelections(selections: readonly string[], draftOrders: Bundle): void {
  const present = new Set((draftOrders.entry ?? []).flatMap((e) => (e.resource?.id ? [`${e.resource.resourceType}/${e.resource.id}`] : [])));
  selections.forEach((selection, i) => {
    if (!present.has(selection)) throw invalid(`context.selections[${i}] (${selection}) is not in context.draftOrders`);
  });
}

/** Throws HttpError 400 on the first problem found. */
export function validateHookRequest(body: unknown, expectedHook: HookName): HookRequest {
  const { hookInstance, fhirServer, fhirAuthorization, extension, context, prefetch } = validators.get(expectedHook)!(body);
  if (fhirAuthorization && !fhirServer) throw invalid('fhirServer is required when fhirAuthorization is present');
  if (expectedHook === 'order-select') checkSelections(context.selections!, context.draftOrders);

  const { access_token, token_type, expires_in, scope, subject, patient } = fhirAuthorization ?? {};
  return {
    hook: expectedHook,
    hookInstance,
    ...(extension && { extension }),
    ...(fhirServer && { fhirServer }),
    ...(fhirAuthorization && { fhirAuthorization: { access_token, token_type, expires_in, scope, subject, ...(patient && { patient }) } as FhirAuthorization }),
    context: {
      userId: context.userId,
      patientId: context.patientId,
      draftOrders: context.draftOrders,
      ...(context.encounterId && { encounterId: context.encounterId }),
      ...(expectedHook === 'order-select' && { selections: context.selections }),
    },
    prefetch: prefetch ?? {},
  };
}
