import { HttpError } from './errors';
import { compileRequestSchema } from './request-schema';

/** The message of the 400 that `validate(body)` throws. */
function refusal(validate: (body: unknown) => unknown, body: unknown): string {
  try {
    validate(body);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, code: 'invalid-request' });
    return (error as HttpError).message;
  }
  throw new Error('accepted');
}

describe('compileRequestSchema', () => {
  const validate = compileRequestSchema({
    type: 'object',
    required: ['list', 'name'],
    properties: {
      name: { type: 'string', minLength: 1, messages: { required: 'is required here', minLength: 'must not be blank' } },
      list: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' } } } },
      map: { type: 'object', additionalProperties: { type: 'object', required: ['kind'] } },
      count: { type: ['integer', 'null'], minimum: 1 },
      either: { type: 'object', anyOf: [{ required: ['a'] }, { required: ['b'] }], messages: { anyOf: 'needs a or b' } },
      resource: { type: 'object', resourceType: 'Bundle' },
      url: { type: 'string', format: 'http-url' },
    },
    messages: { type: 'must be a JSON object' },
  });
  const ok = { name: 'n', list: [] };

  it('returns the body it accepts, unchanged', () => {
    const body = { ...ok, extra: { kept: true }, count: null };
    expect(validate(body)).toBe(body);
  });

  it('names the root "request body"', () => {
    expect(refusal(validate, 'text')).toBe('request body must be a JSON object');
    expect(refusal(validate, [])).toBe('request body must be a JSON object');
  });

  it('names a missing property by its path, with the property schema\'s own words when it has them', () => {
    expect(refusal(validate, { name: 'n' })).toBe('list is required');
    expect(refusal(validate, { list: [] })).toBe('name is required here');
    expect(refusal(validate, { ...ok, map: { k: {} } })).toBe('map.k.kind is required');
  });

  it('treats JSON null where a value is needed as missing, and accepts it where the schema allows null', () => {
    expect(refusal(validate, { ...ok, name: null })).toBe('name is required here');
    expect(validate({ ...ok, count: null })).toEqual({ ...ok, count: null });
  });

  it('writes array items with brackets and object keys with dots, even numeric or slashed keys', () => {
    expect(refusal(validate, { ...ok, list: [{}, { id: 3 }] })).toBe('list[1].id must be a string');
    expect(refusal(validate, { ...ok, map: { '0': 1 } })).toBe('map.0 must be an object');
    expect(refusal(validate, { ...ok, map: { 'a/b~c': 1 } })).toBe('map.a/b~c must be an object');
  });

  it('uses the failing keyword\'s message, else a short default', () => {
    expect(refusal(validate, { ...ok, name: '' })).toBe('name must not be blank');
    expect(refusal(validate, { ...ok, count: 0 })).toBe('count must be at least 1');
    expect(refusal(validate, { ...ok, count: 'x' })).toBe('count must be an integer');
    expect(refusal(validate, { ...ok, resource: { resourceType: 'List' } })).toBe('resource must be a FHIR Bundle');
    expect(refusal(validate, { ...ok, url: 'ftp://example.org' })).toBe('url is not valid');
  });

  it('reports a failed anyOf as one message, not its branches', () => {
    expect(refusal(validate, { ...ok, either: {} })).toBe('either needs a or b');
    expect(validate({ ...ok, either: { b: 1 } })).toBeTruthy();
  });
});
