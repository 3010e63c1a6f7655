import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { loadPayerConfig, priorAuthFor, SANDBOX_PAYER } from './payers';

const payer = {
  insurer: 'Example Health',
  identifiers: [{ system: 'http://example.org/payer-id', value: 'EX-1' }],
  priorAuth: { default: 'no-auth', codes: { E0783: 'auth-needed' } },
};

describe('CRD_PAYERS', () => {
  it('defaults to the sandbox payer that the fixture Coverages name', () => {
    expect(loadPayerConfig({})).toBe(SANDBOX_PAYER);
    expect(priorAuthFor(SANDBOX_PAYER, '62362')).toBe('auth-needed');
  });

  it('reads JSON from the variable or from a file, and applies the prior-authorization setting per code', () => {
    const fromEnv = loadPayerConfig({ CRD_PAYERS: JSON.stringify(payer) });
    expect(fromEnv.insurer).toBe('Example Health');
    expect(priorAuthFor(fromEnv, 'E0783')).toBe('auth-needed');
    expect(priorAuthFor(fromEnv, '62362')).toBe('no-auth');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'crd-')), 'payer.json');
    fs.writeFileSync(file, JSON.stringify(payer));
    expect(loadPayerConfig({ CRD_PAYERS: file })).toEqual(fromEnv);
  });

  it.each([
    ['{"identifiers": []}', /"insurer"/],
    [JSON.stringify({ insurer: 'X', identifiers: [] }), /"identifiers"/],
    [JSON.stringify({ insurer: 'X', identifiers: [{ system: 's' }] }), /identifiers\[0\]/],
    [JSON.stringify({ ...payer, priorAuth: { default: 'maybe' } }), /priorAuth\.default/],
    [JSON.stringify({ ...payer, priorAuth: { codes: { E0782: 'sometimes' } } }), /priorAuth\.codes\.E0782/],
    ['{not json', /not valid JSON/],
    ['/no/such/file.json', /no readable file/],
  ])('stops startup with a message naming the field for %s', (value, message) => {
    expect(() => loadPayerConfig({ CRD_PAYERS: value })).toThrow(message);
  });
});

describe('CRD_REQUIRE_COVERAGE', () => {
  it('is on by default (production), off with the sandbox default, and the variable wins', () => {
    expect(loadConfig({}).crd.requireCoverage).toBe(true);
    expect(loadConfig({}, { requireCoverage: false }).crd.requireCoverage).toBe(false);
    expect(loadConfig({ CRD_REQUIRE_COVERAGE: 'true' }, { requireCoverage: false }).crd.requireCoverage).toBe(true);
    expect(() => loadConfig({ CRD_REQUIRE_COVERAGE: 'perhaps' })).toThrow(/CRD_REQUIRE_COVERAGE/);
  });
});
