// One HTTP call to the provider, with the gateway's own key and a time limit.
import { HttpError } from '../errors.js';
import { sendOverAgent } from './httpTransport.js';
import { openaiProtocol } from './protocols/openaiProtocol.js';
import type { ProviderProtocol } from './protocols/ProviderProtocol.js';

/** Where and how to reach the provider. */
export interface UpstreamTarget {
  /** OpenAI: ends in `/v1`. Anthropic and Gemini: the host (`https://api.anthropic.com`). */
  readonly baseUrl: string;
  readonly apiKey: string;
  /** Longest silence of the provider, ms: before its reply starts, and between streamed chunks. */
  readonly timeoutMs: number;
  /**
   * `agent`: node:http with a keep-alive agent (the time limit is per silence); `fetch`: the
   * global fetch (the time limit covers the whole reply, stream included). @default 'agent'
   */
  readonly transport?: 'agent' | 'fetch' | undefined;
  /** The provider's API: how the key is sent. @default openaiProtocol */
  readonly protocol?: ProviderProtocol | undefined;
  /**
   * What `GET /health/detailed` asks under the base URL. @default the protocol's `healthPath`
   * (the embedded simulator, which lists models only the OpenAI way, is asked its `/health`)
   */
  readonly healthPath?: string | undefined;
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
  const url = `${target.baseUrl.replace(/\/+$/, '')}${path}`;
  const headers = {
    ...init.headers,
    accept: 'application/json, text/event-stream',
    ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(target.protocol ?? openaiProtocol).authHeaders(target.apiKey),
  };
  const timeout = target.transport === 'fetch' ? AbortSignal.timeout(target.timeoutMs) : undefined;
  try {
    if (!timeout)
      return await sendOverAgent(new URL(url), { ...init, headers, idleTimeoutMs: target.timeoutMs });
    return await fetch(url, { ...init, headers, signal: AbortSignal.any([init.signal, timeout]) });
  } catch (error) {
    if (init.signal.aborted) throw error;
    const timedOut = timeout?.aborted || (error instanceof Error && error.name === 'TimeoutError');
    throw new HttpError(
      timedOut ? 504 : 502,
      timedOut ? 'upstream_timeout' : 'upstream_unreachable',
      timedOut
        ? `The provider sent nothing for ${target.timeoutMs} ms.`
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
