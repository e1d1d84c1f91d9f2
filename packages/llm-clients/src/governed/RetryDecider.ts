// What a failed attempt means for the call: give up, or try again after how long (429s, backoff).
import type { Governor } from '@tollgate/limits';
import { ProviderError, ProviderRateLimitError } from '../errors.js';
import { fullJitterDelay, type RetryOptions } from './backoff.js';
import type { ClientContext } from './context.js';

/** Settings of {@link RetryDecider}, defaults applied. */
export interface RetrySettings {
  readonly retry: Required<RetryOptions>;
  readonly maxRetryAfterMs: number;
  readonly random: () => number;
}

/**
 * Decides after each failed attempt whether to retry and after what delay, with the
 * `retry`, `rate-limited` and `would-block` events and their stats. Retryable provider
 * errors back off with full jitter; a 429 cools the provider governor down for everyone.
 */
export class RetryDecider {
  readonly #ctx: ClientContext;
  readonly #settings: RetrySettings;

  constructor(ctx: ClientContext, settings: RetrySettings) {
    this.#ctx = ctx;
    this.#settings = settings;
  }

  /** The delay before attempt `attempt + 1`, or `undefined` to give up with `error`. */
  delayAfter(error: unknown, attempt: number): number | undefined {
    if (ProviderRateLimitError.is(error)) return this.#onRateLimited(error, attempt);
    if (!ProviderError.is(error) || !error.isRetryable) return undefined;
    return this.#retryAfter(error, attempt, this.#backoff(attempt));
  }

  /**
   * A 429: everyone sharing the quota waits, not only this caller. In enforce mode the
   * provider governor's cooldown holds the next attempt in its queue; in monitor and
   * reject modes (or with the provider governor outside `governors`) the attempt waits the
   * cooldown out here, since a provider's retry-after is a fact in every mode.
   */
  #onRateLimited(error: ProviderRateLimitError, attempt: number): number | undefined {
    const ctx = this.#ctx;
    const provider = ctx.providerGovernor;
    const { maxRetryAfterMs } = this.#settings;
    ctx.stats.rateLimited++;
    const asked = this.#trustedRetryAfter(error.retryAfterMs);
    ctx.emit({ type: 'rate-limited', retryAfterMs: asked, status: 429 });
    const reason = `${ctx.provider} answered 429`;
    if (asked !== undefined && asked > maxRetryAfterMs) {
      ctx.logger.warn(
        'a 429 asked for a wait longer than maxRetryAfterMs: cooldown capped, call not retried',
        {
          provider: ctx.provider,
          retryAfterMs: asked,
          maxRetryAfterMs,
        },
      );
      provider?.cooldown(maxRetryAfterMs, reason);
      return undefined;
    }
    const wait = asked ?? this.#backoff(attempt);
    provider?.cooldown(wait, reason);
    const delayMs = queues(provider, ctx.governors) ? 0 : wait;
    if (delayMs > 0 && attempt < this.#settings.retry.maxAttempts) {
      ctx.emit({ type: 'would-block', limit: 'cooldown', waitMs: delayMs, reason });
    }
    return this.#retryAfter(error, attempt, delayMs);
  }

  /** A provider's retry-after, or `undefined` (logged) when it is negative or not finite. */
  #trustedRetryAfter(ms: number | undefined): number | undefined {
    if (ms === undefined || (ms >= 0 && Number.isFinite(ms))) return ms;
    this.#ctx.logger.warn('ignored a retry-after that is not a duration', {
      provider: this.#ctx.provider,
      retryAfterMs: ms,
    });
    return undefined;
  }

  /** Schedules another attempt after `delayMs`, or `undefined` when attempts are used up. */
  #retryAfter(error: ProviderError, attempt: number, delayMs: number): number | undefined {
    if (attempt >= this.#settings.retry.maxAttempts) return undefined;
    this.#ctx.stats.retries++;
    this.#ctx.emit({
      type: 'retry',
      attempt,
      delayMs,
      error: error.message,
      ...(error.status ? { status: error.status } : {}),
    });
    this.#ctx.logger.debug('retrying provider call', {
      provider: this.#ctx.provider,
      attempt,
      delayMs,
      status: error.status,
    });
    return delayMs;
  }

  #backoff(attempt: number): number {
    return fullJitterDelay(attempt, this.#settings.retry, this.#settings.random);
  }
}

/** Whether the provider governor's cooldown holds the next attempt in its queue. */
function queues(provider: Governor | undefined, governors: readonly Governor[]): boolean {
  return provider !== undefined && provider.mode === 'enforce' && governors.includes(provider);
}
