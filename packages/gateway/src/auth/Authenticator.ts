// Turns an Authorization header into a Principal: an API key (hashed, looked up) or a JWT (jose).
import type { Clock } from '@tollgate/core';
import { parseResourceLimits, type ResourceLimits } from '@tollgate/limits';
import { importSPKI, type JWTPayload, jwtVerify } from 'jose';
import { type JwtConfig, PERMISSIONS, type Permission } from '../config/GatewayConfig.js';
import { HttpError } from '../errors.js';
import { hashApiKey, sameDigest } from '../keys/apiKey.js';
import type { KeyStore, StoredKey } from '../keys/KeyStore.js';
import type { Principal } from './Principal.js';

/** Options of {@link Authenticator}. */
export interface AuthenticatorOptions {
  readonly keys: KeyStore;
  readonly jwt?: JwtConfig | undefined;
  /** How long a found key is cached, ms. */
  readonly cacheMs: number;
  readonly clock: Clock;
}

type VerificationKey = Awaited<ReturnType<typeof importSPKI>> | Uint8Array;

const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/;

/** The one answer to every key that does not authenticate: it says nothing of why. */
export const invalidKey = () =>
  new HttpError(401, 'invalid_api_key', 'Incorrect API key provided.', { type: 'authentication_error' });

/**
 * Checks `Authorization: Bearer ...`. A key is hashed (SHA-256) and looked up by its hash;
 * the stored digest is then compared in constant time. A JWT (when configured) is verified
 * with jose, allowing only the configured algorithm.
 */
export class Authenticator {
  readonly #keys: KeyStore;
  readonly #jwt: JwtConfig | undefined;
  readonly #cacheMs: number;
  readonly #clock: Clock;
  readonly #cache = new Map<string, { key: StoredKey; at: number }>();
  #jwtKey: Promise<VerificationKey> | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#keys = options.keys;
    this.#jwt = options.jwt;
    this.#cacheMs = options.cacheMs;
    this.#clock = options.clock;
  }

  /** @throws HttpError 401 for a missing, unknown, revoked or malformed credential. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const match = /^Bearer +(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw new HttpError(401, 'missing_api_key', 'Missing API key: send `Authorization: Bearer YOUR_KEY`.', {
        type: 'authentication_error',
      });
    }
    const credential = match[1]!;
    if (this.#jwt && JWT_SHAPE.test(credential)) return this.#fromJwt(credential);
    return this.#fromKey(credential);
  }

  /** Drops cached keys (after a rotation or revocation in this process). */
  forget(): void {
    this.#cache.clear();
  }

  async #fromKey(key: string): Promise<Principal> {
    const digest = hashApiKey(key);
    const now = this.#clock.now();
    let cached = this.#cache.get(digest);
    if (!cached || now - cached.at > this.#cacheMs) {
      const found = await this.#keys.findByHash(digest);
      cached = found && { key: found, at: now };
      if (cached && this.#cacheMs > 0) this.#cache.set(digest, cached);
      else this.#cache.delete(digest);
    }
    const stored = cached?.key;
    if (!stored || !sameDigest(stored.keyHash, digest) || stored.revokedAt !== null) throw invalidKey();
    return {
      id: stored.id,
      name: stored.name,
      kind: 'key',
      permissions: new Set(stored.permissions),
      limits: stored.limits ?? undefined,
    };
  }

  async #fromJwt(token: string): Promise<Principal> {
    const jwt = this.#jwt!;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.#verificationKey(), {
        algorithms: [jwt.secret ? 'HS256' : 'RS256'],
        issuer: jwt.issuer,
        audience: jwt.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw new HttpError(
        401,
        'invalid_token',
        'The token is not valid (signature, expiry, issuer or audience).',
        {
          type: 'authentication_error',
          cause: error,
        },
      );
    }
    return principalOfClaims(payload);
  }

  #verificationKey(): Promise<VerificationKey> {
    const jwt = this.#jwt!;
    this.#jwtKey ??= jwt.secret
      ? Promise.resolve(new TextEncoder().encode(jwt.secret))
      : importSPKI(jwt.publicKey!, 'RS256');
    return this.#jwtKey;
  }
}

/** A verified token's claims as a principal: `sub`, `permissions`, optional `name` and `limits`. */
function principalOfClaims(payload: JWTPayload): Principal {
  const bad = (what: string) =>
    new HttpError(401, 'invalid_token', `The token's ${what} claim is not valid.`, {
      type: 'authentication_error',
    });
  const permissions = payload.permissions;
  if (!Array.isArray(permissions) || !permissions.every((p) => PERMISSIONS.includes(p as Permission)))
    throw bad('permissions');
  let limits: ResourceLimits | undefined;
  if (payload.limits !== undefined) {
    try {
      limits = parseResourceLimits(payload.limits);
    } catch {
      throw bad('limits');
    }
  }
  const sub = String(payload.sub);
  return {
    id: `jwt:${sub}`,
    name: typeof payload.name === 'string' ? payload.name : sub,
    kind: 'jwt',
    permissions: new Set(permissions as Permission[]),
    limits,
  };
}
