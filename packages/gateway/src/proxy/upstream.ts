// One HTTP call to the provider, with the gateway's own key and a time limit.
import { HttpError } from '../errors.js';
import { openaiProtocol } from './protocols/openaiProtocol.js';
import type { ProviderProtocol } from './protocols/ProviderProtocol.js';

/** Where and how to reach the provider. */
export interface UpstreamTarget {
  /** OpenAI: ends in `/v1`. Anthropic and Gemini: the host (`https://api.anthropic.com`). */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
  /** The provider's API: how the key is sent. @default openaiProtocol */
  readonly protocol?: ProviderProtocol | undefined;
}

/**
 * Sends `body` to `path` under the base URL. The client's headers are not forwarded: only
 * the gateway's key reaches the provider, and no client key leaves the gateway.
 * @throws HttpError 502 when the provider cannot be reached, 504 when it does not answer in time.
 */
export async function callUpstream(
  target: UpstreamTarget,
  path: string,
  init: {
    method: 'GET' | 'POST';
    body?: string;
    signal: AbortSignal;
    /** Further headers (the client's `anthropic-version`); the key headers win over them. */
    headers?: Readonly<Record<string, string>> | undefined;
  },
): Promise<Response> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  try {
    return await fetch(`${target.baseUrl.replace(/\/+$/, '')}${path}`, {
      method: init.method,
      headers: {
        ...init.headers,
        accept: 'application/json, text/event-stream',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(target.protocol ?? openaiProtocol).authHeaders(target.apiKey),
      },
      body: init.body,
      signal: AbortSignal.any([init.signal, timeout]),
    });
  } catch (error) {
    if (init.signal.aborted) throw error;
    const timedOut = timeout.aborted;
    throw new HttpError(
      timedOut ? 504 : 502,
      timedOut ? 'upstream_timeout' : 'upstream_unreachable',
      timedOut
        ? `The provider did not answer within ${target.timeoutMs} ms.`
        : 'The provider could not be reached.',
      { type: 'server_error', cause: error },
    );
  }
}

/** Response headers worth passing to the client: the content type and the provider's request id. */
export function passedHeaders(
  response: Response,
  protocol: ProviderProtocol = openaiProtocol,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', ...protocol.passedHeaders]) {
    const value = response.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
