/** Gemini's failures as Tollgate's typed provider errors. */
import { ApiError } from '@google/genai';
import type { CallDeadline } from '../callDeadline.js';
import { errorObjects } from '../errorBody.js';
import { ProviderError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import { retryAfterMs } from '../headers.js';
import { mapSdkError } from '../mapSdkError.js';
import type { QuotaExhaustionDetector } from '../quotaExhaustion.js';

/** Where one call's error happened: its provider name, request id (if the response had one) and the quota detector. */
export interface GeminiErrorContext {
  readonly provider: string;
  readonly requestId: string | undefined;
  readonly detect: QuotaExhaustionDetector;
}

/**
 * The typed error for whatever a Gemini call threw. The SDK's `ApiError` carries the status
 * and the error body as JSON text in its message; the body's `google.rpc.RetryInfo.retryDelay`
 * becomes `retryAfterMs`, and a `google.rpc.QuotaFailure` violation of a per-day quota a
 * `QuotaExhaustedError` (no retry before the reset). The key travels in a header and never
 * appears in a body or a message.
 */
export function geminiError(thrown: unknown, deadline: CallDeadline, context: GeminiErrorContext): Error {
  return mapSdkError(deadline.explain(thrown), {
    provider: context.provider,
    requestId: context.requestId,
    isAbort: (error) => (error as Error | undefined)?.name === 'AbortError',
    isConnection: (error) =>
      error instanceof TypeError && /fetch failed|network|socket|ECONN/i.test(error.message),
    isApiError: (error) => error instanceof ApiError,
    fromApiError: (error) => fromApiError(error, context),
  });
}

function fromApiError(error: ApiError, { provider, requestId, detect }: GeminiErrorContext): Error {
  const body = parseBody(error.message);
  const inner = errorObjects(body)[0];
  const message = typeof inner?.message === 'string' && inner.message ? inner.message : error.message;
  const after = retryAfterMs(undefined, body);
  const common = {
    provider,
    cause: error,
    ...(requestId ? { requestId } : {}),
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
  if (error.status !== 429) return new ProviderError(message, { ...common, status: error.status });
  const quota = detect(body, Date.now());
  if (!quota) return new ProviderRateLimitError(message, common);
  return new QuotaExhaustedError(quota.message, {
    ...common,
    status: 429,
    ...(quota.resetsAt !== undefined ? { resetsAt: quota.resetsAt } : {}),
  });
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
