import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { webcrypto } from 'node:crypto';
import { Principal, PrincipalKind, Role, ROLES } from './principal';

/** The claims of shared API.md; `sub` and `tid` become `userId` and `tenantId` on the Principal. */
export interface TokenClaims {
  sub: string;
  tid: string;
  kind: PrincipalKind;
  roles: readonly Role[];
  name?: string;
}

export interface SignOptions {
  /** A jose time span ("8h", "30m", "2 days"), or seconds from now. */
  expiresIn: string | number;
}

export type InvalidTokenReason = 'expired' | 'malformed' | 'bad_signature' | 'bad_claims' | 'issued_in_future' | 'lifetime_too_long';

/** What a verified token may claim about time, beyond its signature. */
export interface TokenPolicy {
  /** The longest a token may live, `exp − iat` (or `exp − now` when it has no `iat`). */
  maxLifetimeSeconds: number;
}

/** A day: long enough for a working session, short enough that a leaked token does not live forever. */
export const DEFAULT_MAX_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

/** Every way a bearer token can be refused; the HTTP edge turns it into 401 UNAUTHENTICATED. */
export class InvalidTokenError extends Error {
  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

const ALGORITHM = 'HS256';
const KINDS: readonly PrincipalKind[] = ['partner', 'customer', 'service'];
/** Services of other teams sign their own tokens; a few seconds of clock skew must not lock them out. */
const CLOCK_TOLERANCE_SECONDS = 30;

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** The last secret's imported key: importing is per-secret work, and every request verifies a token. */
let verificationKey: { secret: string; key: Promise<webcrypto.CryptoKey> } | undefined;

function verificationKeyOf(secret: string): Promise<webcrypto.CryptoKey> {
  if (verificationKey?.secret !== secret) {
    verificationKey = { secret, key: webcrypto.subtle.importKey('raw', keyOf(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) };
  }
  return verificationKey.key;
}

/** Bearer tokens verified under the current secret, by their text: a client sends the same token on every request. */
const VERIFIED_TOKENS_KEPT = 1000;
let verifiedTokens: { secret: string; payloads: Map<string, Record<string, unknown>> } = { secret: '', payloads: new Map() };

/**
 * The payload of a token whose signature and claims jose accepted before under `secret`. Once the
 * token comes within the clock tolerance of its expiry it is forgotten, so jose decides again and
 * refuses it the way it refuses any expired token.
 */
function alreadyVerified(token: string, secret: string): Record<string, unknown> | undefined {
  if (verifiedTokens.secret !== secret) return undefined;
  const payload = verifiedTokens.payloads.get(token);
  if (payload && typeof payload['exp'] === 'number' && payload['exp'] - CLOCK_TOLERANCE_SECONDS <= Date.now() / 1000) {
    verifiedTokens.payloads.delete(token);
    return undefined;
  }
  return payload;
}

function rememberVerified(token: string, secret: string, payload: Record<string, unknown>): void {
  if (verifiedTokens.secret !== secret) verifiedTokens = { secret, payloads: new Map() };
  const { payloads } = verifiedTokens;
  if (payloads.size >= VERIFIED_TOKENS_KEPT) payloads.delete(payloads.keys().next().value!);
  payloads.set(token, payload);
}

export async function signToken(claims: TokenClaims, secret: string, options: SignOptions): Promise<string> {
  const payload: Record<string, unknown> = { tid: claims.tid, kind: claims.kind, roles: [...claims.roles] };
  if (claims.name !== undefined) payload.name = claims.name;
  const expiresAt =
    typeof options.expiresIn === 'number' ? Math.floor(Date.now() / 1000) + options.expiresIn : options.expiresIn;
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' }).setSubject(claims.sub).setIssuedAt();
  try {
    jwt.setExpirationTime(expiresAt);
  } catch {
    // jose only says "Invalid time period format"; name the offending value for CLI users.
    throw new RangeError(`expiresIn "${options.expiresIn}" is not a time span like 30m, 8h or 7d`);
  }
  return jwt.sign(keyOf(secret));
}

/**
 * Verifies signature (HS256 only, so `alg: none` and algorithm-confusion tokens fail), expiry when
 * present, `iat` not in the future, a lifetime within `policy.maxLifetimeSeconds`, and the claim shapes. `exp` is honoured but not required: the contract lists only
 * sub/tid/kind/roles/name, and tools written against it may mint tokens without it.
 * Role strings this service does not know are dropped rather than refused: a Partner Center user
 * often carries other roles too, and an unknown role grants nothing here.
 */
export async function verifyToken(
  token: string,
  secret: string,
  policy: TokenPolicy = { maxLifetimeSeconds: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS },
): Promise<Principal> {
  const remembered = alreadyVerified(token, secret);
  let payload: Record<string, unknown>;
  if (remembered) payload = remembered;
  else {
    try {
      ({ payload } = await jwtVerify(token, await verificationKeyOf(secret), {
        algorithms: [ALGORITHM],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (error: unknown) {
      if (error instanceof joseErrors.JOSEError) throw toInvalidTokenError(error);
      throw error;
    }
  }
  // Lifetime and claim shapes on every use: the policy is the caller's, and they cost next to nothing.
  checkTimes(payload, policy, Math.floor(Date.now() / 1000));
  const principal = principalFrom(payload);
  if (!remembered) rememberVerified(token, secret, payload);
  return principal;
}

/**
 * jose checks `exp`, and `iat` only as a number; a token issued "later" than now, or one whose `exp`
 * lies years ahead, would otherwise be good for as long as its issuer wished. Both within the same
 * clock tolerance as `exp`. A token without `exp` and `iat` stays accepted (see README, "Tokens").
 */
function checkTimes(payload: Record<string, unknown>, policy: TokenPolicy, nowSeconds: number): void {
  const { iat, exp } = payload;
  if (typeof iat === 'number' && iat > nowSeconds + CLOCK_TOLERANCE_SECONDS) {
    throw new InvalidTokenError('issued_in_future', `token "iat" lies ${iat - nowSeconds} s in the future`);
  }
  const issuedAt = typeof iat === 'number' ? iat : undefined;
  const max = policy.maxLifetimeSeconds;
  if (typeof exp === 'number') {
    const lifetime = exp - (issuedAt ?? nowSeconds);
    if (lifetime > max + CLOCK_TOLERANCE_SECONDS) {
      throw new InvalidTokenError(
        'lifetime_too_long',
        `token lives ${lifetime} s (exp − ${issuedAt === undefined ? 'now' : 'iat'}), more than the maximum of ${max} s`,
      );
    }
  } else if (issuedAt !== undefined && nowSeconds - issuedAt > max + CLOCK_TOLERANCE_SECONDS) {
    throw new InvalidTokenError('expired', `token has no "exp" and was issued more than ${max} s ago`);
  }
}

function toInvalidTokenError(error: joseErrors.JOSEError): InvalidTokenError {
  if (error instanceof joseErrors.JWTExpired) return new InvalidTokenError('expired', 'token expired');
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError(
      'bad_signature',
      "token signature does not verify: it was signed with another secret than this service's (another AUTH_JWT_SECRET, or the dev secret of another DATA_DIR)",
    );
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new InvalidTokenError('bad_claims', `token claim "${error.claim}" is not acceptable`);
  }
  return new InvalidTokenError('malformed', 'token is malformed or uses an unsupported algorithm');
}

function principalFrom(payload: Record<string, unknown>): Principal {
  const { sub, tid, kind, roles, name } = payload;
  if (!isNonEmptyString(sub)) throw badClaim('sub');
  if (!isNonEmptyString(tid)) throw badClaim('tid');
  if (!KINDS.includes(kind as PrincipalKind)) throw badClaim('kind');
  if (!Array.isArray(roles) || !roles.every((role) => typeof role === 'string')) throw badClaim('roles');
  if (name !== undefined && typeof name !== 'string') throw badClaim('name');
  const known = ROLES.filter((role) => roles.includes(role));
  const principal: Principal = { userId: sub, tenantId: tid, kind: kind as PrincipalKind, roles: known };
  if (name !== undefined) principal.name = name;
  return principal;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function badClaim(claim: string): InvalidTokenError {
  return new InvalidTokenError('bad_claims', `token claim "${claim}" is missing or invalid`);
}
