/**
 * Authenticates CDS Clients as CDS Hooks 2.0 "Trusting CDS Clients" describes: every discovery,
 * hook and feedback call carries `Authorization: Bearer <JWT>` signed by a client we trust. The
 * middleware accepts a call only if every check below passes; on any failure it answers 401 with
 * no detail (a caller probing us learns nothing) and writes one log line naming the failed check
 * (an operator can fix a misconfigured client). The token itself is never logged.
 */
import type { Request, RequestHandler, Response } from 'express';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import type { Logger } from '../logging/logger';
import { getRequestLogger } from '../logging/request-log';
import type { SecurityConfig, TrustedIssuer } from './config';
import { ReplayCache, type SharedReplayStore } from './replay-cache';

/** The check that refused a call; the value of `check` in the log line. */
export type AuthCheck =
  | 'header'
  | 'malformed'
  | 'alg'
  | 'typ'
  | 'kid'
  | 'iss'
  | 'jku'
  | 'key'
  | 'jwks'
  | 'signature'
  | 'aud'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'lifetime'
  | 'jti'
  | 'replay'
  /** An unexpected error inside verification; the call is refused all the same. */
  | 'internal';

export interface ClientAuthOptions {
  security: SecurityConfig;
  /** Public base URL as callers see it (config.publicBaseUrl); required with trust on: `aud` never comes from the request. */
  publicBaseUrl?: string;
  /** Used when the request-logging middleware has not attached a per-request logger. */
  logger: Logger;
  /** Where replicas share the JWT ids they have seen (the database); without it, this process only. */
  replayStore?: SharedReplayStore;
  /** Clock, for tests. */
  now?: () => number;
}

const CLIENT_ISSUER = 'clientIssuer';
/** Far above any real CDS Client JWT; stops us parsing megabytes of header. */
const MAX_TOKEN_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;

class AuthFailure extends Error {
  constructor(readonly check: AuthCheck) {
    super(check);
  }
}

/**
 * Express middleware for the CDS Hooks routes (discovery, services, feedback). With trust off it
 * lets every call through and sets no issuer. Key sets are built here, once: a remote JWKS is
 * fetched on first use and cached by jose; a JWKS file was read by loadSecurityConfig.
 */
export function createClientAuth(options: ClientAuthOptions): RequestHandler {
  const { security } = options;
  if (!security.trustClients) return (_req, _res, next) => next();
  // The audience a token must name is ours to say: taken from the Host header, a token minted for
  // another service of the same issuer would pass whenever the caller sets Host to that service.
  if (!options.publicBaseUrl) throw new Error('client trust needs PUBLIC_BASE_URL: the JWT audience is never taken from the request');
  const publicBaseUrl = options.publicBaseUrl;

  const now = options.now ?? Date.now;
  const replays = new ReplayCache({
    maxEntries: security.replayCacheMaxEntries,
    shared: options.replayStore,
    now,
    onSharedFailure: (error) =>
      options.logger.warn({ errorName: (error as Error | null)?.name }, 'shared replay cache unavailable: this replica alone checked the jti'),
  });
  const issuers = new Map(security.issuers.map((issuer) => [issuer.iss, { issuer, keys: keySet(issuer, security) }]));

  return async (req, res, next) => {
    try {
      const token = bearerToken(req);
      const header = protectedHeader(token);
      if (typeof header.alg !== 'string' || !(security.algorithms as string[]).includes(header.alg)) {
        throw new AuthFailure('alg');
      }
      // The spec fixes typ to "JWT"; a token typed for something else (e.g. an OAuth access
      // token, "at+jwt") must not be usable here. Absent typ is tolerated.
      if (header.typ !== undefined && String(header.typ).toUpperCase() !== 'JWT') throw new AuthFailure('typ');
      if (typeof header.kid !== 'string' || header.kid === '') throw new AuthFailure('kid');

      const claimedIss = unverifiedIssuer(token);
      const trusted = claimedIss === undefined ? undefined : issuers.get(claimedIss);
      if (!trusted) throw new AuthFailure('iss');
      // We never fetch a jku; we only refuse one the issuer did not register, as the spec advises.
      if (header.jku !== undefined && !trusted.issuer.allowedJku.includes(header.jku)) throw new AuthFailure('jku');

      const payload = await verify(token, trusted.keys, security, now);
      checkAudience(payload, expectedAudience(req, publicBaseUrl));
      const { exp, jti } = checkTimes(payload, security, now);

      // Record the jti only now, after the signature and claims passed: unverified tokens must
      // not be able to fill the cache or block a legitimate jti.
      const expiresAtMs = (exp + security.clockSkewSeconds) * 1000;
      if (!(await replays.remember(`${trusted.issuer.iss}\u0000${jti}`, expiresAtMs))) throw new AuthFailure('replay');

      res.locals[CLIENT_ISSUER] = trusted.issuer.iss;
      next();
    } catch (error) {
      const check: AuthCheck = error instanceof AuthFailure ? error.check : 'internal';
      getRequestLogger(res, options.logger).warn({ check }, 'client authentication failed');
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
    }
  };
}

/** The verified `iss` of the calling client; undefined when trust is off. */
export function getClientIssuer(res: Response): string | undefined {
  return res.locals[CLIENT_ISSUER] as string | undefined;
}

function keySet(issuer: TrustedIssuer, security: SecurityConfig): JWTVerifyGetKey {
  if (issuer.jwks) return createLocalJWKSet(issuer.jwks);
  return createRemoteJWKSet(new URL(issuer.jwksUrl as string), { timeoutDuration: security.jwksTimeoutMs });
}

function bearerToken(req: Request): string {
  const value = req.get('authorization');
  const match = value === undefined ? null : /^Bearer +([^\s]+) *$/i.exec(value);
  if (!match) throw new AuthFailure('header');
  if (match[1].length > MAX_TOKEN_LENGTH) throw new AuthFailure('malformed');
  return match[1];
}

function protectedHeader(token: string): ProtectedHeaderParameters {
  try {
    if (token.split('.').length !== 3) throw new Error('not a JWS compact serialisation');
    return decodeProtectedHeader(token);
  } catch {
    throw new AuthFailure('malformed');
  }
}

function unverifiedIssuer(token: string): string | undefined {
  let payload: JWTPayload;
  try {
    payload = decodeJwt(token);
  } catch {
    throw new AuthFailure('malformed');
  }
  return typeof payload.iss === 'string' ? payload.iss : undefined;
}

async function verify(
  token: string,
  keys: JWTVerifyGetKey,
  security: SecurityConfig,
  now: () => number,
): Promise<JWTPayload> {
  // Key lookup failures are told apart from bad signatures: an unknown kid is the client's
  // configuration, an unreachable JWKS is ours or the network's.
  const getKey: JWTVerifyGetKey = async (header, input) => {
    try {
      return await keys(header, input);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
        throw new AuthFailure('key');
      }
      if (error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) throw new AuthFailure('key');
      throw new AuthFailure('jwks');
    }
  };
  try {
    const { payload } = await jwtVerify(token, getKey, {
      algorithms: security.algorithms,
      clockTolerance: security.clockSkewSeconds,
      currentDate: new Date(now()),
      requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti'],
    });
    return payload;
  } catch (error) {
    throw joseFailure(error);
  }
}

function joseFailure(error: unknown): AuthFailure {
  if (error instanceof AuthFailure) return error;
  if (error instanceof errors.JWTExpired) return new AuthFailure('exp');
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim as AuthCheck;
    return new AuthFailure((['iss', 'aud', 'exp', 'nbf', 'iat', 'jti'] as AuthCheck[]).includes(claim) ? claim : 'malformed');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new AuthFailure('alg');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthFailure('signature');
  if (error instanceof errors.JOSEError) return new AuthFailure('malformed');
  return new AuthFailure('internal');
}

/** The URL the client called, which `aud` must name: the configured public base URL plus the path without query. */
function expectedAudience(req: Request, publicBaseUrl: string): string {
  const path = req.originalUrl.split('?')[0];
  return withoutTrailingSlash(`${publicBaseUrl.replace(/\/+$/, '')}${path}`);
}

/** One audience, as docs/security.md says: a string, or an array holding that one string. */
function checkAudience(payload: JWTPayload, expected: string): void {
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (audiences.length !== 1) throw new AuthFailure('aud');
  // A trailing slash is the only difference tolerated: Express routes /cds-services and
  // /cds-services/ alike, so a client may legitimately have called either.
  if (!audiences.some((aud) => typeof aud === 'string' && withoutTrailingSlash(aud) === expected)) {
    throw new AuthFailure('aud');
  }
}

function checkTimes(payload: JWTPayload, security: SecurityConfig, now: () => number) {
  const { exp, iat, jti } = payload;
  if (typeof exp !== 'number') throw new AuthFailure('exp');
  if (typeof iat !== 'number') throw new AuthFailure('iat');
  const nowSeconds = now() / 1000;
  if (iat > nowSeconds + security.clockSkewSeconds) throw new AuthFailure('iat');
  // CDS Clients mint a fresh JWT for every call (the sandbox gives it 5 minutes). A token valid
  // for hours or years is either misconfigured or made to be replayed once stolen, and it would
  // also force the replay cache to hold its jti that long. So the lifetime is capped.
  if (exp - iat > security.maxTokenLifetimeSeconds || exp < iat) throw new AuthFailure('lifetime');
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) throw new AuthFailure('jti');
  return { exp, jti };
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
