// One HTTP call to the OpenAI-compatible provider, with the gateway's own key and a time limit.
import { HttpError } from '../errors.js';

/** Where and how to reach the provider. */
export interface UpstreamTarget {
  /** Ends in `/v1`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly timeoutMs: number;
}

/**
 * Sends `body` to `path` under the base URL. The client's headers are not forwarded: only
 * the gateway's key reaches the provider, and no client key leaves the gateway.
 * @throws HttpError 502 when the provider cannot be reached, 504 when it does not answer in time.
 */
export async function callUpstream(
  target: UpstreamTarget,
  path: string,
  init: { method: 'GET' | 'POST'; body?: string; signal: AbortSignal },
): Promise<Response> {
  const timeout = AbortSignal.timeout(target.timeoutMs);
  try {
    return await fetch(`${target.baseUrl.replace(/\/+$/, '')}${path}`, {
      method: init.method,
      headers: {
        authorization: `Bearer ${target.apiKey}`,
        accept: 'application/json, text/event-stream',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
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
export function passedHeaders(response: Response): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['content-type', 'x-request-id', 'openai-processing-ms']) {
    const value = response.headers.get(name);
    if (value !== null) out[name] = value;
  }
  return out;
}
