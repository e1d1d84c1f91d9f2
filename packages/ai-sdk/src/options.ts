// Options of tollgateMiddleware: their defaults, in one place, and their validation.
import {
  type Clock,
  checkOptions,
  type Logger,
  oneOf,
  optionRules,
  rule,
  type TokenCounter,
} from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { QuotaExhaustionDetector, RetryOptions } from '@tollgate/llm-clients';
import type { ModelCallOptions, WrappedModel } from './types.js';

/**
 * Prompt tokens of one call, in place of counting its messages: for prompts with images
 * or documents, or a model whose tokenizer the counter does not know. A whole number
 * from 0 up; the output reservation (`maxOutputTokens`) is added to it.
 */
export type PromptEstimate = (params: ModelCallOptions, model: WrappedModel) => number;

/** Options of {@link tollgateMiddleware}. */
export interface TollgateMiddlewareOptions {
  /**
   * Governors every model call passes, acquired in this order: agent-level first, the
   * shared provider governor last. At least one.
   */
  readonly governors: readonly Governor[];
  /** The governor of the provider's quota: 429 cooldowns and header feedback go here. @default the last governor */
  readonly providerGovernor?: Governor | undefined;
  /**
   * How the provider counts tokens against its quota. `admission`: prompt + max output
   * tokens when it admits the request (OpenAI, Azure and the simulator do this), so the
   * provider governor is settled with that; `usage`: what was really used. Other
   * governors are always settled with real usage. @default 'admission'
   */
  readonly providerCharging?: 'admission' | 'usage' | undefined;
  /** Counts prompt tokens (and streamed text that reported no usage). @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
  /** Prompt tokens of a call, instead of counting them. @default counts with `tokenCounter` */
  readonly estimate?: PromptEstimate | undefined;
  /**
   * Output tokens reserved for a call that sets no `maxOutputTokens`; it is also sent as
   * the call's `maxOutputTokens`, so the reservation bounds what the provider may
   * produce. Minimum: 1. @default 1_024
   */
  readonly defaultMaxTokens?: number | undefined;
  /**
   * Tollgate's own retries of a call (429s, 5xx, connection failures), each through the
   * governors again; `false` for none. Use it with `maxRetries: 0` on the AI SDK call.
   * @default { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 }
   */
  readonly retry?: RetryOptions | false | undefined;
  /**
   * The longest wait a provider's 429 can impose, ms. A longer `retry-after` puts the
   * provider governor into a cooldown of this length only, and the error goes to the
   * caller instead of being retried. Greater than 0. @default 900_000 (15 minutes)
   */
  readonly maxRetryAfterMs?: number | undefined;
  /**
   * Recognises a 429 that is a used-up quota or spend limit (no wait helps): the call then
   * fails with `QuotaExhaustedError`, without a cooldown. @default OpenAI's, Anthropic's and Gemini's
   */
  readonly quotaExhaustion?: QuotaExhaustionDetector | undefined;
  /** @default systemClock */
  readonly clock?: Clock | undefined;
  /** @default silentLogger */
  readonly logger?: Logger | undefined;
  /** Source of jitter for retry delays, for tests. @default Math.random */
  readonly random?: (() => number) | undefined;
  /** The `label` of this middleware's acquires, so a shared governor's events say whose calls they are. */
  readonly label?: string | undefined;
}

/** Defaults of {@link TollgateMiddlewareOptions}. */
export const TOLLGATE_MIDDLEWARE_DEFAULTS = {
  providerCharging: 'admission',
  defaultMaxTokens: 1_024,
  maxRetryAfterMs: 900_000,
} as const;

const isGovernor = (v: unknown) => typeof (v as Governor | null)?.acquire === 'function';

/**
 * Checks every option of {@link tollgateMiddleware} (and of its `retry`).
 * @throws InvalidArgumentError naming every option out of range.
 */
export function checkTollgateMiddlewareOptions(options: TollgateMiddlewareOptions): void {
  // `governors` is required: a missing one is reported like a wrong one.
  checkOptions(
    'tollgateMiddleware',
    { ...options, governors: options?.governors ?? null },
    {
      governors: rule(
        'a non-empty array of governors',
        (v) => Array.isArray(v) && v.length > 0 && v.every(isGovernor),
      ),
      providerGovernor: rule('a governor', isGovernor),
      providerCharging: oneOf('admission', 'usage'),
      tokenCounter: rule(
        'a TokenCounter',
        (v) => typeof (v as TokenCounter | null)?.countMessages === 'function',
      ),
      estimate: optionRules.function,
      defaultMaxTokens: optionRules.positiveInt,
      retry: rule('an options object or false', (v) => v === false || (typeof v === 'object' && v !== null)),
      maxRetryAfterMs: optionRules.positive,
      quotaExhaustion: optionRules.function,
      clock: rule('a Clock', (v) => typeof (v as Clock | null)?.now === 'function'),
      logger: rule('a Logger', (v) => typeof (v as Logger | null)?.warn === 'function'),
      random: optionRules.function,
      label: optionRules.string,
    },
  );
  if (options.retry === false) return;
  checkOptions('tollgateMiddleware.retry', options.retry, {
    maxAttempts: optionRules.positiveInt,
    baseDelayMs: optionRules.nonNegative,
    maxDelayMs: optionRules.nonNegative,
  });
}
