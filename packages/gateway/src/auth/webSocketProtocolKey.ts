// Reads a gateway key a browser sends in `Sec-WebSocket-Protocol`, where it cannot set headers.

import type { FastifyRequest } from 'fastify';

/** The subprotocol a browser offers first, which the gateway selects (never the key's entry). */
export const WS_PROTOCOL = 'tollgate';

/** The prefix of the subprotocol entry carrying the key: `bearer.KEY`. */
export const WS_KEY_PREFIX = 'bearer.';

/**
 * An onRequest hook for WebSocket upgrades that, when the request has no `Authorization`
 * header, reads the key from a `bearer.KEY` entry of `Sec-WebSocket-Protocol` as if it came
 * as `Authorization: Bearer KEY`. A browser opens `new WebSocket(url, ['tollgate',
 * 'bearer.' + key])`; the gateway answers with the first entry, `tollgate`, so the key is
 * never echoed back.
 */
export function keyFromWebSocketProtocol() {
  return async (request: FastifyRequest): Promise<void> => {
    const offered = request.headers['sec-websocket-protocol'];
    if (request.headers.authorization !== undefined || typeof offered !== 'string') return;
    const entry = offered
      .split(',')
      .map((p) => p.trim())
      .find((p) => p.startsWith(WS_KEY_PREFIX) && p.length > WS_KEY_PREFIX.length);
    if (entry) request.headers.authorization = `Bearer ${entry.slice(WS_KEY_PREFIX.length)}`;
  };
}
