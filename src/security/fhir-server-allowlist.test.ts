import type { SecurityConfig } from './config';
import { checkFhirServer, normaliseFhirBaseUrl } from './fhir-server-allowlist';

type AllowlistConfig = Pick<SecurityConfig, 'trustClients' | 'issuers' | 'fhirServerAllowlist'>;

const trusted: AllowlistConfig = {
  trustClients: true,
  issuers: [
    { iss: 'https://ehr.example.org', allowedJku: [], fhirServers: ['https://ehr.example.org/fhir', 'https://fhir.example.net'] },
    { iss: 'https://other.example.org', allowedJku: [], fhirServers: [] },
  ],
  fhirServerAllowlist: ['http://localhost:8080/fhir'],
};

const sandbox: AllowlistConfig = { ...trusted, trustClients: false };

describe('normaliseFhirBaseUrl', () => {
  it.each(['http://localhost:8080/fhir/a/../b', 'https://ehr.example.org/fhir/..;/admin', 'https://ehr.example.org/fhir/./x', 'https://ehr.example.org/fhir/%2e%2e/x', 'https://ehr.example.org/fhir/.;x/y'])(
    'refuses the dot segment in %s (a path escape, on Tomcat-hosted servers even as "..;")',
    (raw) => {
      expect(normaliseFhirBaseUrl(raw)).toEqual({ ok: false, message: expect.stringMatching(/segments/) });
    },
  );

  it.each([
    ['https://EHR.Example.org:443/fhir/', 'https://ehr.example.org/fhir'],
    ['https://ehr.example.org/fhir//', 'https://ehr.example.org/fhir'],
    ['https://ehr.example.org', 'https://ehr.example.org'],
  ])('canonicalises %s', (raw, expected) => {
    expect(normaliseFhirBaseUrl(raw)).toEqual({ ok: true, url: expected });
  });

  it.each([
    ['not a url', 'valid absolute URL'],
    ['ftp://ehr.example.org/fhir', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['https://user:secret@ehr.example.org/fhir', 'credentials'],
    ['https://ehr.example.org/fhir?x=1', 'without query'],
    ['https://ehr.example.org/fhir#frag', 'without query'],
    ['https://ehr.example.org/fhir%2F..%2Fadmin', 'encoded slashes'],
  ])('refuses %s', (raw, fragment) => {
    const result = normaliseFhirBaseUrl(raw);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toContain(fragment);
  });
});

describe('checkFhirServer with client trust on', () => {
  it('accepts a base URL configured for the verified issuer, ignoring a trailing slash', () => {
    expect(checkFhirServer('https://ehr.example.org', 'https://ehr.example.org/fhir/', trusted)).toEqual({
      ok: true,
      url: 'https://ehr.example.org/fhir',
    });
  });

  it('accepts a URL below an allowed base on a path-segment boundary', () => {
    expect(checkFhirServer('https://ehr.example.org', 'https://ehr.example.org/fhir/tenant-a', trusted)).toEqual({
      ok: true,
      url: 'https://ehr.example.org/fhir/tenant-a',
    });
    expect(checkFhirServer('https://ehr.example.org', 'https://fhir.example.net/r4', trusted).ok).toBe(true);
  });

  it.each([
    ['a sibling path sharing the prefix', 'https://ehr.example.org/fhirx'],
    ['a host that merely starts with the allowed one', 'https://ehr.example.org.evil.test/fhir'],
    ['another port', 'https://ehr.example.org:8443/fhir'],
    ['plain http for an https entry', 'http://ehr.example.org/fhir'],
    ['a dot-segment escape', 'https://ehr.example.org/fhir/../admin'],
    ['an internal address', 'http://169.254.169.254/latest'],
  ])('refuses %s', (_label, url) => {
    const result = checkFhirServer('https://ehr.example.org', url, trusted);
    expect(result.ok).toBe(false);
  });

  it('allows nothing for an issuer without FHIR servers, an unknown issuer or no issuer', () => {
    expect(checkFhirServer('https://other.example.org', 'https://ehr.example.org/fhir', trusted).ok).toBe(false);
    expect(checkFhirServer('https://stranger.example.org', 'https://ehr.example.org/fhir', trusted).ok).toBe(false);
    expect(checkFhirServer(undefined, 'https://ehr.example.org/fhir', trusted).ok).toBe(false);
  });

  it('does not fall back to the sandbox allowlist', () => {
    expect(checkFhirServer('https://ehr.example.org', 'http://localhost:8080/fhir', trusted).ok).toBe(false);
  });

  it('names the field when the value is not a string', () => {
    expect(checkFhirServer('https://ehr.example.org', 42, trusted)).toEqual({
      ok: false,
      message: 'fhirServer must be a non-empty string',
    });
  });
});

describe('checkFhirServer with client trust off', () => {
  it('accepts the sandbox allowlist whatever the issuer', () => {
    expect(checkFhirServer(undefined, 'http://localhost:8080/fhir', sandbox)).toEqual({
      ok: true,
      url: 'http://localhost:8080/fhir',
    });
  });

  it('refuses other loopback ports and the issuers’ servers', () => {
    expect(checkFhirServer(undefined, 'http://localhost:9000/fhir', sandbox).ok).toBe(false);
    expect(checkFhirServer(undefined, 'http://127.0.0.1:8080/admin', sandbox).ok).toBe(false);
    expect(checkFhirServer('https://ehr.example.org', 'https://ehr.example.org/fhir', sandbox).ok).toBe(false);
  });
});
