/**
 * JSON Schema validation of what CDS clients send (hook requests, feedback), compiled once with ajv when the
 * module loads. A refusal is a 400 whose message names the field the way the caller wrote it
 * (`context.draftOrders.entry[0].resource.resourceType is required`), never ajv's own wording or paths.
 *
 * Schemas may carry `messages`, an annotation this module adds to ajv: for a failing keyword of that schema
 * (`type`, `pattern`, `format`, `const`, `anyOf`, ...) the words that follow the field's name; `messages.required`
 * on a property's schema is said when the property is missing (default "is required"). Without an entry a
 * short default per keyword is used. The `resourceType` keyword asks for a JSON object that is a FHIR resource
 * of that type; the formats below take the FHIR datatype patterns from @medplum/core.
 */
import { isUUID, validationRegexes } from '@medplum/core';
import Ajv, { type ErrorObject, type SchemaObject } from 'ajv';
import { invalid } from './errors';

type FieldMessages = Partial<Record<string, string>>;

/** A string with at least one character that is not white space (a building block of the schemas). */
export const nonEmptyString = { type: 'string', pattern: '\\S', messages: { type: 'must be a non-empty string', pattern: 'must be a non-empty string' } };

// Strict, except that `required` may name properties defined beside it (if/then, anyOf branches).
const ajv = new Ajv({ allErrors: false, verbose: true, allowUnionTypes: true, strict: true, strictRequired: false });
ajv.addVocabulary(['messages']);
ajv.addKeyword({
  keyword: 'resourceType',
  type: 'object',
  schemaType: 'string',
  validate: (resourceType: string, data: { resourceType?: unknown }) => data.resourceType === resourceType,
});
/** FHIR R4 id, except `.` and `..`: as the id of a `Type/id` path they are path steps, not ids. */
const isFhirId = (value: string) => validationRegexes.id.test(value) && !/^\.+$/.test(value);
ajv.addFormat('fhir-id', isFhirId);
/** `Type/id` (a relative FHIR reference without version), as context.userId and selections use. */
ajv.addFormat('relative-reference', (value: string) => {
  const slash = value.indexOf('/');
  return slash > 0 && /^[A-Z][A-Za-z]+$/.test(value.slice(0, slash)) && isFhirId(value.slice(slash + 1));
});
ajv.addFormat('uuid', isUUID);
ajv.addFormat('http-url', (value: string) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  return url?.protocol === 'http:' || url?.protocol === 'https:';
});
/** A URL that carries no user name or password (an unparsable one is left to `http-url`). */
ajv.addFormat('url-without-credentials', (value: string) => {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  return url === undefined || (url.username === '' && url.password === '');
});
/**
 * A FHIR instant (a date-time with seconds and a zone; CDS Hooks timestamps are RFC 3339 date-times, the same
 * shape) on a day the calendar has: the FHIR pattern, like Date.parse, lets 2026-02-30 through.
 */
ajv.addFormat('instant', (value: string) => {
  if (!validationRegexes.instant.test(value)) return false;
  const [year, month, day] = value.slice(0, 10).split('-').map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
});

const TYPE_WORDS: Record<string, string> = { object: 'an object', array: 'an array', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false' };

/** The field as the caller wrote it: `context.draftOrders.entry[0]`; the root is "request body". */
function fieldName(body: unknown, instancePath: string): string {
  let name = '';
  let node = body;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    name += Array.isArray(node) ? `[${segment}]` : name === '' ? segment : `.${segment}`;
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[segment] : undefined;
  }
  return name === '' ? 'request body' : name;
}

function messagesOf(schema: unknown): FieldMessages {
  return (typeof schema === 'object' && schema !== null && (schema as { messages?: FieldMessages }).messages) || {};
}

function defaultMessage(error: ErrorObject): string {
  const schema = error.schema as unknown;
  switch (error.keyword) {
    case 'type': {
      const types = (Array.isArray(schema) ? schema : [schema]).filter((t) => t !== 'null') as string[];
      return `must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`;
    }
    case 'const':
      return `must be ${JSON.stringify(schema)}`;
    case 'enum':
      return `must be one of ${(schema as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'resourceType':
      return `must be a FHIR ${String(schema)}`;
    case 'minLength':
      return 'must be a non-empty string';
    case 'minimum':
      return `must be at least ${String(schema)}`;
    case 'minItems':
      return 'must not be empty';
    case 'not':
      return 'is not allowed here';
    default:
      return 'is not valid';
  }
}

/**
 * The one error worth telling the caller. With allErrors off ajv stops at the first failure, but an `anyOf`
 * also reports each failed branch before itself and an `if` reports itself after its `then`: the `anyOf` speaks
 * for its branches, and the `then` error is more precise than the `if` one.
 */
function chosenError(errors: readonly ErrorObject[]): ErrorObject {
  return errors.find((e) => e.keyword === 'anyOf') ?? errors.find((e) => e.keyword !== 'if') ?? errors[0];
}

function describeSchemaError(body: unknown, errors: readonly ErrorObject[]): string {
  const error = chosenError(errors);
  const field = fieldName(body, error.instancePath);
  if (error.keyword === 'required') {
    const missing = (error.params as { missingProperty: string }).missingProperty;
    const propertySchema = (error.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties?.[missing];
    const name = field === 'request body' ? missing : `${field}.${missing}`;
    return `${name} ${messagesOf(propertySchema).required ?? 'is required'}`;
  }
  // JSON null where a value is needed: to the caller the field is as good as missing.
  if (error.data === null) return `${field} ${messagesOf(error.parentSchema).required ?? 'is required'}`;
  return `${field} ${messagesOf(error.parentSchema)[error.keyword] ?? defaultMessage(error)}`;
}

/** Compiles `schema` once; the returned function returns its argument typed, or throws a 400 naming the field. */
export function compileRequestSchema<T>(schema: SchemaObject): (body: unknown) => T {
  const validate = ajv.compile<T>(schema);
  return (body) => {
    if (validate(body)) return body;
    throw invalid(describeSchemaError(body, validate.errors ?? []));
  };
}
