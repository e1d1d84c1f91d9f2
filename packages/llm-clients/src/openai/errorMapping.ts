// What the openai SDK threw, as Tollgate's typed provider errors.
import OpenAI from 'openai';
import { DeadlineExpired } from '../callDeadline.js';
import { ProviderError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import { retryAfterMs } from '../headers.js';
import { errorClassChecks, mapSdkError } from '../mapSdkError.js';
import type { QuotaExhaustionDetector } from '../quotaExhaustion.js';

/**
 * Maps an error of the openai SDK to a typed error: aborts to `AbortError`, connection
 * failures and timeouts (the SDK's or the call's `DeadlineExpired`) to `ProviderConnectionError`, a 429 to `ProviderRateLimitError` (or
 * `QuotaExhaustedError` when `quotaExhaustion` recognises its body), other statuses to
 * `ProviderError`, an unreadable reply to `MalformedResponseError`.
 */
export function toProviderError(
  error: unknown,
  provider: string,
  quotaExhaustion: QuotaExhaustionDetector,
): Error {
  // Our own deadline (the whole body, a stream's silence) ends a call as the SDK's timeout does.
  const thrown = error instanceof DeadlineExpired ? new OpenAI.APIConnectionTimeoutError() : error;
  return mapSdkError(thrown, {
    provider,
    ...errorClassChecks(OpenAI),
    fromApiError: (e) => fromStatus(e, provider, quotaExhaustion),
  });
}

function fromStatus(
  error: InstanceType<typeof OpenAI.APIError>,
  provider: string,
  quotaExhaustion: QuotaExhaustionDetector,
): ProviderError {
  const requestId = error.requestID ?? undefined;
  const after = retryAfterMs(error.headers, error.error);
  const common = {
    provider,
    cause: error,
    ...(requestId ? { requestId } : {}),
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
  if (error.status === 429) {
    const quota = quotaExhaustion(error.error, Date.now());
    if (!quota) return new ProviderRateLimitError(error.message, common);
    return new QuotaExhaustedError(quota.message, {
      ...common,
      status: 429,
      ...(quota.resetsAt !== undefined ? { resetsAt: quota.resetsAt } : {}),
    });
  }
  return new ProviderError(error.message, {
    ...common,
    ...(error.status !== undefined ? { status: error.status } : {}),
  });
}
