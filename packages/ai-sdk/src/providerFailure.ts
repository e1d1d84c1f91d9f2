// What a failed AI SDK model call says about the provider: status, retry-after, quota.
import { type QuotaExhaustionDetector, retryAfterMs } from '@tollgate/llm-clients';

/** The AI SDK's brand on its `APICallError`s (checked by symbol, so any copy of the SDK matches). */
const API_CALL_ERROR = Symbol.for('vercel.ai.error.AI_APICallError');

interface ApiCallErrorLike {
  readonly message: string;
  readonly statusCode?: number | undefined;
  readonly responseHeaders?: Record<string, string> | undefined;
  readonly responseBody?: string | undefined;
  readonly data?: unknown;
  readonly isRetryable: boolean;
}

/** A provider's refusal or failure, as read from an AI SDK `APICallError`. */
export interface ProviderFailure {
  /** HTTP status; `undefined` when there was no response (a connection failure). */
  readonly status: number | undefined;
  /** Whether the AI SDK judges a new attempt may succeed (408, 409, 429, 5xx, no response). */
  readonly retryable: boolean;
  /** How long the provider asked us to wait (`retry-after-ms`, `retry-after`, reset headers), ms. */
  readonly retryAfterMs: number | undefined;
  /** A 429 that is a used-up quota or spend limit: no wait helps. */
  readonly quotaExhausted: { readonly message: string; readonly resetsAt?: number } | undefined;
  readonly requestId: string | undefined;
  /** The reply's headers (a 429's rate-limit headers say what the provider has left), if any. */
  readonly headers?: Record<string, string> | undefined;
}

/** Whether `error` is an AI SDK `APICallError` (by its brand, or by its shape). */
export function isApiCallError(error: unknown): error is ApiCallErrorLike {
  if (typeof error !== 'object' || error === null) return false;
  if ((error as Record<symbol, unknown>)[API_CALL_ERROR] === true) return true;
  const e = error as Partial<ApiCallErrorLike> & { url?: unknown };
  return typeof e.isRetryable === 'boolean' && typeof e.url === 'string';
}

function parseBody(error: ApiCallErrorLike): unknown {
  if (error.data !== undefined) return error.data;
  try {
    return error.responseBody === undefined ? undefined : JSON.parse(error.responseBody);
  } catch {
    return undefined;
  }
}

/**
 * Reads a failed call: `undefined` when `error` is not the provider's (an abort, a
 * governor's refusal, a bug), else its status, retry-after and whether its quota is used up.
 */
export function readProviderFailure(
  error: unknown,
  detectQuota: QuotaExhaustionDetector,
): ProviderFailure | undefined {
  if (!isApiCallError(error)) return undefined;
  // Wall-clock time: HTTP dates and quota resets are epoch times, whatever clock paces us.
  const now = Date.now();
  const headers = error.responseHeaders;
  const body = parseBody(error);
  const status = error.statusCode;
  return {
    status,
    retryable: error.isRetryable,
    retryAfterMs: retryAfterMs(headers, body, now),
    quotaExhausted: status === 429 ? detectQuota(body, now) : undefined,
    requestId: headers?.['x-request-id'],
    headers,
  };
}
