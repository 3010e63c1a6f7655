import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeTrustMode, loadSecurityConfig } from './config';

const KEYS = join(__dirname, '../../test/keys');
const production = { trustClients: true, sandboxFhirPort: 8080 };
const sandbox = { trustClients: false, sandboxFhirPort: 8080 };

const sandboxIssuer = {
  iss: 'https://sandbox.cds-hooks.org',
  jwksUrl: 'https://sandbox.cds-hooks.org/.well-known/jwks.json',
  fhirServers: ['https://launch.smarthealthit.org/v/r4/fhir/'],
};
const fileIssuer = { iss: 'https://ehr.example.org', jwksFile: join(KEYS, 'client.jwks.json') };

describe('loadSecurityConfig', () => {
  it('has trust off and a loopback-only sandbox allowlist by default for npm start', () => {
    const config = loadSecurityConfig({}, sandbox);
    expect(config.trustClients).toBe(false);
    expect(config.fhirServerAllowlist).toEqual(['http://localhost:8080/fhir', 'http://127.0.0.1:8080/fhir']);
    expect(config.algorithms).toEqual(['ES384', 'RS384']);
    expect(config.clockSkewSeconds).toBe(60);
    expect(config.maxTokenLifetimeSeconds).toBe(3600);
  });

  it('refuses to start the production command without trusted issuers', () => {
    expect(() => loadSecurityConfig({}, production)).toThrow('CDS_TRUSTED_ISSUERS must name at least one issuer');
  });

  it('reads issuers from inline JSON: a JWKS URL, and a JWKS file loaded at startup', () => {
    const config = loadSecurityConfig({ CDS_TRUSTED_ISSUERS: JSON.stringify([sandboxIssuer, fileIssuer]) }, production);
    expect(config.trustClients).toBe(true);
    const [remote, local] = config.issuers;
    expect(remote).toEqual({
      iss: 'https://sandbox.cds-hooks.org',
      jwksUrl: 'https://sandbox.cds-hooks.org/.well-known/jwks.json',
      jwks: undefined,
      allowedJku: ['https://sandbox.cds-hooks.org/.well-known/jwks.json'],
      fhirServers: ['https://launch.smarthealthit.org/v/r4/fhir'],
    });
    expect(local.jwks?.keys.map((k) => k.kid)).toEqual(['test-ec-p384', 'test-rsa-2048', 'test-ec-p256']);
    expect(local.allowedJku).toEqual([]);
    expect(local.fhirServers).toEqual([]);
  });

  it('reads issuers from a file and resolves jwksFile relative to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cds-issuers-'));
    writeFileSync(join(dir, 'keys.json'), readFileSync(join(KEYS, 'client.jwks.json')));
    writeFileSync(join(dir, 'issuers.json'), JSON.stringify([{ iss: 'https://ehr.example.org', jwksFile: 'keys.json' }]));
    const config = loadSecurityConfig({ CDS_TRUSTED_ISSUERS: join(dir, 'issuers.json') }, production);
    expect(config.issuers[0].jwks?.keys).toHaveLength(3);
  });

  it('lets trust be switched by CDS_TRUST_CLIENTS', () => {
    expect(loadSecurityConfig({ CDS_TRUST_CLIENTS: 'false' }, production).trustClients).toBe(false);
    const on = loadSecurityConfig({ CDS_TRUST_CLIENTS: 'on', CDS_TRUSTED_ISSUERS: JSON.stringify([fileIssuer]) }, sandbox);
    expect(on.trustClients).toBe(true);
  });

  it.each([
    ['HS256', 'CDS_JWT_ALGORITHMS: "HS256" is not accepted'],
    ['none', 'CDS_JWT_ALGORITHMS: "none" is not accepted'],
    ['ES384,PS999', '"PS999" is not accepted'],
  ])('refuses the algorithm list %s', (value, message) => {
    expect(() => loadSecurityConfig({ CDS_JWT_ALGORITHMS: value }, sandbox)).toThrow(message);
  });

  it('accepts ES256 and RS256 when configured', () => {
    expect(loadSecurityConfig({ CDS_JWT_ALGORITHMS: 'ES384, ES256,RS256' }, sandbox).algorithms).toEqual([
      'ES384',
      'ES256',
      'RS256',
    ]);
  });

  it.each([
    [[{ jwksUrl: 'https://x.test/jwks' }], 'CDS_TRUSTED_ISSUERS[0].iss must be a non-empty string'],
    [[{ iss: 'https://x.test' }], 'exactly one of jwksUrl and jwksFile'],
    [[{ iss: 'https://x.test', jwksUrl: 'http://x.test/jwks' }], 'must use https'],
    [[{ iss: 'https://x.test', jwksFile: '/nonexistent/jwks.json' }], 'cannot read the file'],
    [[{ iss: 'https://x.test', jwksFile: join(KEYS, 'ec-p384.private.jwk.json') }], 'non-empty "keys" array'],
    [[{ iss: 'https://x.test', jwksUrl: 'https://x.test/jwks', fhirServers: ['ftp://x.test'] }], 'fhirServers[0]'],
    [[fileIssuer, fileIssuer], 'names the issuer https://ehr.example.org twice'],
    [{ iss: 'https://x.test' }, 'must be a JSON array'],
  ])('explains a bad issuer list %#', (value, message) => {
    expect(() => loadSecurityConfig({ CDS_TRUSTED_ISSUERS: JSON.stringify(value) }, production)).toThrow(message);
  });

  it('refuses a JWKS file that holds a private key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cds-issuers-'));
    const privateKey = JSON.parse(readFileSync(join(KEYS, 'ec-p384.private.jwk.json'), 'utf8'));
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [privateKey] }));
    const issuers = JSON.stringify([{ iss: 'https://x.test', jwksFile: join(dir, 'jwks.json') }]);
    expect(() => loadSecurityConfig({ CDS_TRUSTED_ISSUERS: issuers }, production)).toThrow('contains a private key');
  });

  it('accepts http JWKS URLs on loopback only (local test issuers)', () => {
    const issuers = JSON.stringify([{ iss: 'local', jwksUrl: 'http://127.0.0.1:9999/jwks.json' }]);
    expect(loadSecurityConfig({ CDS_TRUSTED_ISSUERS: issuers }, production).issuers[0].jwksUrl).toBe(
      'http://127.0.0.1:9999/jwks.json',
    );
  });

  it('reads a custom sandbox allowlist and rejects a bad entry', () => {
    expect(loadSecurityConfig({ CDS_FHIR_ALLOWLIST: 'http://localhost:9090/r4/, https://hapi.example.test/fhir' }, sandbox).fhirServerAllowlist).toEqual([
      'http://localhost:9090/r4',
      'https://hapi.example.test/fhir',
    ]);
    expect(() => loadSecurityConfig({ CDS_FHIR_ALLOWLIST: 'gopher://x' }, sandbox)).toThrow('CDS_FHIR_ALLOWLIST');
  });

  it('names the variable of a bad number', () => {
    expect(() => loadSecurityConfig({ CDS_JWT_CLOCK_SKEW_SECONDS: '-5' }, sandbox)).toThrow('CDS_JWT_CLOCK_SKEW_SECONDS');
    expect(() => loadSecurityConfig({ CDS_JWT_MAX_LIFETIME_SECONDS: '0' }, sandbox)).toThrow('greater than 0');
  });
});

describe('describeTrustMode', () => {
  it('says trust is off and what the sandbox may reach', () => {
    const line = describeTrustMode(loadSecurityConfig({}, sandbox));
    expect(line).toMatch(/^client trust OFF/);
    expect(line).toContain('http://localhost:8080/fhir');
    expect(line).toContain('per client IP');
    expect(line).not.toContain('\n');
  });

  it('lists the trusted issuers and the verification settings', () => {
    const line = describeTrustMode(
      loadSecurityConfig({ CDS_TRUSTED_ISSUERS: JSON.stringify([sandboxIssuer, fileIssuer]) }, production),
    );
    expect(line).toMatch(/^client trust ON: 2 issuer\(s\)/);
    expect(line).toContain('https://sandbox.cds-hooks.org (keys from https://sandbox.cds-hooks.org/.well-known/jwks.json; 1 FHIR server(s))');
    expect(line).toContain('https://ehr.example.org (keys from file; 0 FHIR server(s))');
    expect(line).toContain('algorithms ES384,RS384');
    expect(line).toContain('per issuer');
  });
});
