// GovernedClient's options, defaults and checks, its events and its stats.
import {
  type Clock,
  checkOptions,
  type Logger,
  oneOf,
  optionRules,
  rule,
  type TokenCounter,
  type Usage,
} from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { RetryOptions } from './backoff.js';
import type { CircuitBreaker, CircuitBreakerOptions, CircuitState } from './CircuitBreaker.js';

/** Options of {@link GovernedClient}. */
export interface GovernedClientOptions {
  /** Governors every call passes, in this order: agent-level first, provider-level last. At least one. */
  readonly governors: readonly Governor[];
  /** The governor of the provider's quota: 429 cooldowns and header feedback go here. @default the last governor */
  readonly providerGovernor?: Governor | undefined;
  /**
   * How the provider counts tokens against its quota. `admission`: prompt + max output
   * tokens when the request is admitted (OpenAI, Azure and the simulator do this), so the
   * provider governor is settled with that; `usage`: what was really used. Other governors
   * are always settled with real usage. @default 'admission'
   */
  readonly providerCharging?: 'admission' | 'usage' | undefined;
  /**
   * How `chat` calls the provider. `'whole'`: one request, one reply. `'stream'`: the reply
   * is streamed and assembled (`assembleChunks`), so the provider governor's hold ends at
   * its first chunk, not at its end (see `GovernorLease.endHold`). Against strict windows a
   * call then costs its time to first token per window cycle instead of its whole latency.
   * Retries, settlement and errors are the same either way. @default 'whole'
   */
  readonly chatTransport?: 'whole' | 'stream' | undefined;
  /** @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** Output tokens reserved (and sent as `max_tokens`) when a request sets none. Minimum: 1. @default 1_024 */
  readonly defaultMaxTokens?: number | undefined;
  readonly retry?: RetryOptions | undefined;
  /**
   * The longest wait a provider's 429 can impose, ms. A longer `retry-after` (a bogus
   * header, a date years away) puts the provider governor into a cooldown of this length
   * only, and the error goes to the caller instead of being retried. Greater than 0.
   * @default 900_000 (15 minutes)
   */
  readonly maxRetryAfterMs?: number | undefined;
  /**
   * Options of this client's own breaker, a `CircuitBreaker` to share with other clients of
   * the same provider (so one outage opens it for all of them), or `false` for none.
   * @default { failureThreshold: 5, resetMs: 30_000 }
   */
  readonly circuitBreaker?: CircuitBreakerOptions | CircuitBreaker | false | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** Source of jitter, for tests. @default Math.random */
  readonly random?: (() => number) | undefined;
  /** The `label` of this client's acquires, so a shared governor's events say whose calls they are (an agent id). */
  readonly label?: string | undefined;
}

/** A governor resource that rate-limit headers can lower (see the `feedback` event). */
export type FeedbackResource = 'requests' | 'tokens' | 'inputTokens' | 'outputTokens';

/** What the governed client does, as it happens. */
export type ClientEvent =
  | {
      readonly type: 'call';
      readonly attempt: number;
      readonly estimateTokens: number;
      readonly usage: Usage;
      readonly durationMs: number;
    }
  | {
      readonly type: 'retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly error: string;
      readonly status?: number;
    }
  | { readonly type: 'rate-limited'; readonly retryAfterMs: number | undefined; readonly status: 429 }
  | {
      /**
       * A call waits out a provider's retry-after itself, outside any governor's queue: in
       * monitor and reject modes, where the provider governor's cooldown does not hold it.
       */
      readonly type: 'would-block';
      readonly limit: 'cooldown';
      readonly waitMs: number;
      readonly reason: string;
    }
  | { readonly type: 'feedback'; readonly resource: FeedbackResource; readonly lowered: number }
  | { readonly type: 'failed'; readonly attempts: number; readonly error: string; readonly code: string }
  | { readonly type: 'circuit'; readonly state: CircuitState };

/** Defaults of {@link GovernedClientOptions}. */
export const GOVERNED_CLIENT_DEFAULTS = {
  providerCharging: 'admission',
  chatTransport: 'whole',
  defaultMaxTokens: 1_024,
  maxRetryAfterMs: 900_000,
} as const;

const isGovernor = (v: unknown) => typeof (v as Governor | null)?.acquire === 'function';

/** Running totals of a governed client. */
export interface ClientStats {
  calls: number;
  succeeded: number;
  failed: number;
  retries: number;
  rateLimited: number;
  usage: Usage;
}

/**
 * Checks every option of a {@link GovernedClient} (and of its `retry`), returning the
 * `retry` options. @throws InvalidArgumentError naming every option out of range.
 */
export function checkGovernedClientOptions(options: GovernedClientOptions): RetryOptions {
  // `governors` is required: a missing one is reported like a wrong one.
  checkOptions(
    'GovernedClient',
    { ...options, governors: options?.governors ?? null },
    {
      governors: rule(
        'a non-empty array of governors',
        (v) => Array.isArray(v) && v.length > 0 && v.every(isGovernor),
      ),
      providerGovernor: rule('a governor', isGovernor),
      providerCharging: oneOf('admission', 'usage'),
      chatTransport: oneOf('whole', 'stream'),
      defaultMaxTokens: optionRules.positiveInt,
      maxRetryAfterMs: optionRules.positive,
      retry: rule('an options object', (v) => typeof v === 'object' && v !== null),
      random: optionRules.function,
      label: optionRules.string,
    },
  );
  return checkOptions('GovernedClient.retry', options.retry, {
    maxAttempts: optionRules.positiveInt,
    baseDelayMs: optionRules.nonNegative,
    maxDelayMs: optionRules.nonNegative,
  });
}
