// What a failed model call means: give up (with which error), or try again after how long.
import type { Logger } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import {
  type ClientEvent,
  DEFAULT_RETRY,
  fullJitterDelay,
  QuotaExhaustedError,
  type QuotaExhaustionDetector,
  type RetryOptions,
} from '@tollgate/llm-clients';
import { type ProviderFailure, readProviderFailure } from './providerFailure.js';

/** The settings a {@link RetryPolicy} runs on. */
export interface RetryPolicySettings {
  readonly retry: RetryOptions | false;
  readonly maxRetryAfterMs: number;
  readonly detectQuota: QuotaExhaustionDetector;
  /** The provider governor, put in cooldown by a 429. */
  readonly provider: Governor;
  /** Whether the provider governor is one the calls acquire (its cooldown then queues them). */
  readonly providerAcquired: boolean;
  readonly logger: Logger;
  readonly random: () => number;
  readonly emit: (event: ClientEvent) => void;
}

/** The verdict on a failed attempt. */
export type Verdict =
  | { readonly retry: false; readonly error: unknown; readonly failure: ProviderFailure | undefined }
  | { readonly retry: true; readonly delayMs: number; readonly failure: ProviderFailure };

/**
 * Decides, per failed attempt, whether to retry: 429s (after a cooldown every caller of the
 * provider governor waits out), 5xx and connection failures (full-jitter backoff), up to
 * `maxAttempts`. An abort, a governor's refusal or a used-up quota ends the call at once.
 */
export class RetryPolicy {
  readonly #s: RetryPolicySettings;
  readonly #retry: Required<RetryOptions>;

  constructor(settings: RetryPolicySettings) {
    this.#s = settings;
    this.#retry =
      settings.retry === false
        ? { ...DEFAULT_RETRY, maxAttempts: 1 }
        : { ...DEFAULT_RETRY, ...definedOnly(settings.retry) };
  }

  /** The verdict on `error`, the failure of attempt number `attempt` (from 1) of a call to `provider`. */
  judge(error: unknown, attempt: number, signal: AbortSignal | undefined, provider: string): Verdict {
    const failure = readProviderFailure(error, this.#s.detectQuota);
    const giveUp = (e: unknown = error): Verdict => ({ retry: false, error: e, failure });
    if (!failure || signal?.aborted) return giveUp();
    if (failure.quotaExhausted) {
      const { message, resetsAt } = failure.quotaExhausted;
      return giveUp(
        new QuotaExhaustedError(message, {
          provider,
          status: 429,
          requestId: failure.requestId,
          resetsAt,
          cause: error,
        }),
      );
    }
    let delayMs: number | undefined;
    if (failure.status === 429) delayMs = this.#onRateLimited(failure, attempt, provider);
    else if (failure.retryable) delayMs = fullJitterDelay(attempt, this.#retry, this.#s.random);
    if (delayMs === undefined || attempt >= this.#retry.maxAttempts) return giveUp();
    this.#s.emit({
      type: 'retry',
      attempt,
      delayMs,
      error: (error as Error)?.message ?? String(error),
      ...(failure.status ? { status: failure.status } : {}),
    });
    return { retry: true, delayMs, failure };
  }

  /**
   * A 429: everyone sharing the quota waits, not only this caller. The provider governor
   * goes into cooldown for the provider's retry-after (or a backoff when it named none);
   * when the calls acquire it in enforce mode, its queue holds the next attempt, so this
   * attempt waits no further itself. `undefined` when the wait asked is past `maxRetryAfterMs`.
   */
  #onRateLimited(failure: ProviderFailure, attempt: number, provider: string): number | undefined {
    const asked = this.#trusted(failure.retryAfterMs, provider);
    this.#s.emit({ type: 'rate-limited', retryAfterMs: asked, status: 429 });
    const reason = `${provider} answered 429`;
    const max = this.#s.maxRetryAfterMs;
    if (asked !== undefined && asked > max) {
      this.#s.logger.warn(
        'a 429 asked for a wait longer than maxRetryAfterMs: cooldown capped, call not retried',
        {
          provider,
          retryAfterMs: asked,
          maxRetryAfterMs: max,
        },
      );
      this.#s.provider.cooldown(max, reason);
      return undefined;
    }
    const wait = asked ?? fullJitterDelay(attempt, this.#retry, this.#s.random);
    this.#s.provider.cooldown(wait, reason);
    const queued = this.#s.providerAcquired && this.#s.provider.mode === 'enforce';
    if (!queued && wait > 0) this.#s.emit({ type: 'would-block', limit: 'cooldown', waitMs: wait, reason });
    return queued ? 0 : wait;
  }

  /** A provider's retry-after, or `undefined` (logged) when it is negative or not finite. */
  #trusted(ms: number | undefined, provider: string): number | undefined {
    if (ms === undefined || (ms >= 0 && Number.isFinite(ms))) return ms;
    this.#s.logger.warn('ignored a retry-after that is not a duration', { provider, retryAfterMs: ms });
    return undefined;
  }
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}
