/**
 * CDS Client JWTs for the HTTP security suites, signed with the test keys of test/keys (see its
 * README), and the CDS_TRUSTED_ISSUERS value that trusts them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';

const KEYS = join(__dirname, '..', '..', 'keys');
export const CLIENT_JWKS_FILE = join(KEYS, 'client.jwks.json');

export type TestKey = 'ec-p384' | 'rsa-2048' | 'ec-p256' | 'impostor-ec-p384';

export function privateKey(name: TestKey): JWK {
  return JSON.parse(readFileSync(join(KEYS, `${name}.private.jwk.json`), 'utf8')) as JWK;
}

export interface TokenSpec {
  iss: string;
  /** The exact URL the call goes to. */
  aud: string | string[];
  key?: TestKey;
  /** Merged over `{ alg, kid, typ: 'JWT' }`; a value of undefined removes the parameter. */
  header?: Record<string, unknown>;
  /** Merged over iss, aud, iat (now), exp (now + 300 s), jti (a fresh UUID). */
  claims?: JWTPayload;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export async function clientToken(spec: TokenSpec): Promise<string> {
  const jwk = privateKey(spec.key ?? 'ec-p384');
  const iat = nowSeconds();
  const claims: JWTPayload = { iss: spec.iss, aud: spec.aud, iat, exp: iat + 300, jti: randomUUID(), ...spec.claims };
  const header: Record<string, unknown> = { alg: jwk.alg, kid: jwk.kid, typ: 'JWT', ...spec.header };
  for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
  return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(await importJWK(jwk, jwk.alg));
}

/** A CDS_TRUSTED_ISSUERS value: each issuer's keys are the public test keys. */
export function trustedIssuers(issuers: { iss: string; fhirServers?: string[] }[]): string {
  return JSON.stringify(issuers.map(({ iss, fhirServers }) => ({ iss, jwksFile: CLIENT_JWKS_FILE, fhirServers: fhirServers ?? [] })));
}
