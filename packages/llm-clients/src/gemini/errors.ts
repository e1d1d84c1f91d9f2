/** Gemini's failures as Tollgate's typed provider errors. */
import { ApiError } from '@google/genai';
import { AbortError } from '@tollgate/core';
import { type CallDeadline, DeadlineExpired } from '../callDeadline.js';
import { errorObjects } from '../errorBody.js';
import {
  MalformedResponseError,
  ProviderConnectionError,
  ProviderError,
  ProviderRateLimitError,
  QuotaExhaustedError,
} from '../errors.js';
import { retryAfterMs } from '../headers.js';
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
  const { provider, requestId } = context;
  const error = deadline.explain(thrown);
  if (error instanceof ProviderError || AbortError.is(error)) return error;
  if (error instanceof DeadlineExpired) {
    return new ProviderConnectionError(`timed out: ${error.message}`, { provider, cause: error });
  }
  if (error instanceof ApiError) return fromApiError(error, context);
  if ((error as Error)?.name === 'AbortError') return new AbortError('the provider call was aborted', error);
  if (error instanceof TypeError && /fetch failed|network|socket|ECONN/i.test(error.message)) {
    return new ProviderConnectionError(error.message, { provider, cause: error });
  }
  if (error instanceof SyntaxError || error instanceof TypeError) {
    return new MalformedResponseError(`unreadable reply: ${error.message}`, {
      provider,
      cause: error,
      ...(requestId ? { requestId } : {}),
    });
  }
  return error instanceof Error ? error : new ProviderError(String(error), { provider });
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
