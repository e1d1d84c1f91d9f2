// The onRequest hook of protected routes: IP block, then authentication, then the permission.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Permission } from '../config/GatewayConfig.js';
import { HttpError } from '../errors.js';
import { retryAfterHeaders } from '../governance/rateLimitHeaders.js';
import type { Authenticator } from './Authenticator.js';
import type { IpBlocker } from './IpBlocker.js';
import type { Principal } from './Principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request, once authenticated. */
    principal?: Principal;
  }
}

/** What {@link requirePermission} needs. */
export interface AuthDeps {
  readonly authenticator: Authenticator;
  readonly blocker: IpBlocker;
}

/**
 * A hook that lets through only requests whose credential is valid and carries
 * `permission`. An address with too many failed authentications is refused (429, with
 * retry-after) before its credential is even looked at; a request without any credential
 * is refused (401) without counting as a failure. The client address is the
 * socket's, or `X-Forwarded-For`'s only when the socket is a trusted proxy.
 */
export function requirePermission(deps: AuthDeps, permission: Permission) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const ip = request.ip;
    const blockedMs = deps.blocker.blockedFor(ip);
    if (blockedMs > 0) {
      throw new HttpError(
        429,
        'ip_blocked',
        'Too many failed authentications from this address; try again later.',
        {
          type: 'authentication_error',
          headers: retryAfterHeaders(blockedMs),
        },
      );
    }
    let principal: Principal;
    try {
      principal = await deps.authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      // A request with no credential at all (a browser before its Basic prompt) guesses nothing.
      const credential = request.headers.authorization;
      const tried = credential !== undefined && credential.trim() !== '';
      if (tried && HttpError.is(error) && error.status === 401) deps.blocker.failure(ip);
      throw error;
    }
    if (!principal.permissions.has(permission)) {
      throw new HttpError(
        403,
        'permission_denied',
        `This credential lacks the \`${permission}\` permission.`,
        {
          type: 'permission_error',
        },
      );
    }
    request.principal = principal;
  };
}
