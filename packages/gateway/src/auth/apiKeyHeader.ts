// Reads a gateway key sent the way a provider's SDK sends its own (`x-api-key`, `x-goog-api-key`).
import type { FastifyRequest } from 'fastify';

/**
 * An onRequest hook that, when the request has no `Authorization` header, reads the key
 * from `header` as if it came as `Authorization: Bearer KEY`: the Anthropic and Gemini SDKs
 * pointed at the gateway send the gateway key where they would send the provider's.
 */
export function keyFromHeader(header: 'x-api-key' | 'x-goog-api-key') {
  return async (request: FastifyRequest): Promise<void> => {
    const value = request.headers[header];
    if (request.headers.authorization === undefined && typeof value === 'string' && value.trim() !== '')
      request.headers.authorization = `Bearer ${value.trim()}`;
  };
}
