/** Anthropic's failures as Tollgate's typed provider errors, and its spend-limit refusals. */
import Anthropic from '@anthropic-ai/sdk';
import type { CallDeadline } from '../callDeadline.js';
import { errorObjects } from '../errorBody.js';
import { ProviderError, ProviderRateLimitError, QuotaExhaustedError } from '../errors.js';
import { retryAfterMs } from '../headers.js';
import { errorClassChecks, mapSdkError } from '../mapSdkError.js';
import type { QuotaExhaustionDetector } from '../quotaExhaustion.js';

/** Anthropic's `error.details.error_code`s for a spend limit: no retry helps before the limit is raised. */
const SPEND_LIMIT_CODES = new Set([
  'enforced_spend_limit_reached',
  'contract_spend_limit_reached',
  'linked_organization_spend_limit_reached',
]);

/**
 * Anthropic: a 429 (or 402) whose `error.details.error_code` names a spend limit, or whose
 * type is `billing_error`. Ordinary rate limits (`rate_limit_error`, `ramp_limit_exceeded`)
 * are not quota exhaustion: they come with a `retry-after`.
 */
export const anthropicQuotaExhaustion: QuotaExhaustionDetector = (body) => {
  for (const error of errorObjects(body)) {
    const code = (error.details as { error_code?: unknown } | undefined)?.error_code;
    if ((typeof code === 'string' && SPEND_LIMIT_CODES.has(code)) || error.type === 'billing_error') {
      return {
        message: typeof error.message === 'string' && error.message ? error.message : String(code),
      };
    }
  }
  return undefined;
};

/** Anthropic's status for "overloaded": retryable like a 503. */
const OVERLOADED = 529;

/**
 * The typed error for whatever an Anthropic call threw: `AbortError` for the caller's
 * abort, `ProviderConnectionError` for no response or our timeout,
 * `QuotaExhaustedError` for a spend limit, `ProviderRateLimitError` for other 429s (with
 * `retry-after`), `ProviderError` with status and request id otherwise. Messages are the
 * SDK's, which never contain the key.
 */
export function anthropicError(
  thrown: unknown,
  deadline: CallDeadline,
  provider: string,
  detect: QuotaExhaustionDetector,
): Error {
  return mapSdkError(deadline.explain(thrown), {
    provider,
    ...errorClassChecks(Anthropic),
    fromApiError: (error) => fromApiError(error, provider, detect),
  });
}

function fromApiError(
  error: InstanceType<typeof Anthropic.APIError>,
  provider: string,
  detect: QuotaExhaustionDetector,
) {
  const requestId = error.requestID ?? undefined;
  const after = retryAfterMs(error.headers);
  const message = error.apiMessage ?? error.message;
  const common = {
    provider,
    cause: error,
    ...(requestId ? { requestId } : {}),
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  };
  const quota = error.status === 429 || error.status === 402 ? detect(error.error, Date.now()) : undefined;
  if (quota) return new QuotaExhaustedError(quota.message, { ...common, status: error.status });
  if (error.status === 429) return new ProviderRateLimitError(message, common);
  return new ProviderError(message, {
    ...common,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.status === OVERLOADED ? { retryable: true } : {}),
  });
}
