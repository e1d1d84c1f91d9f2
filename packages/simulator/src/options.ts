// The simulator's options: quota, latency and faults, their defaults and their checks.
import { type Clock, checkOptions, numberIn, optionRules, rule, type TokenCounter } from '@tollgate/core';

/** The quota the simulator enforces per API key. */
export interface SimulatorQuota {
  /** Requests admitted per window. @default unlimited */
  readonly requestsPerWindow?: number | undefined;
  /** Tokens admitted per window, charged at admission as prompt + max output tokens. @default unlimited */
  readonly tokensPerWindow?: number | undefined;
  /** @default 60_000 (a minute); shorten it to time-compress a quota in tests */
  readonly windowMs?: number | undefined;
  /**
   * Also enforce the quota pro rata over this many sub-windows ("60k/min enforced as
   * 1k/s" is `subWindows: 60`). @default 1 (no sub-windows)
   */
  readonly subWindows?: number | undefined;
  /**
   * Requests admitted in all, per key: a prepaid budget or a daily quota. Past it every
   * request answers 429 `insufficient_quota` (no retry-after), as OpenAI does when a quota
   * or spend limit is used up. @default unlimited
   */
  readonly requestBudget?: number | undefined;
  /**
   * Input tokens per window on the Anthropic route (its ITPM), a continuous-refill bucket
   * charged with the prompt at admission. The Gemini route charges its prompt to
   * `tokensPerWindow` instead (Gemini's TPM counts input only). @default unlimited
   */
  readonly inputTokensPerWindow?: number | undefined;
  /**
   * Output tokens per window on the Anthropic route (its OTPM), a continuous-refill bucket
   * charged `max_tokens` at admission and corrected to the real output when the reply ends.
   * @default unlimited
   */
  readonly outputTokensPerWindow?: number | undefined;
}

/** How long responses take. Every duration is multiplied by a factor in [1 - jitter, 1 + jitter]. */
export interface SimulatorLatency {
  /** Time to first token, ms. @default 40 */
  readonly ttftMs?: number | undefined;
  /** Per completion token, ms. @default 0.5 */
  readonly perTokenMs?: number | undefined;
  /** @default 0.25 */
  readonly jitter?: number | undefined;
}

/** Probabilities (0..1) of injected faults, drawn per request. */
export interface SimulatorFaults {
  /** HTTP 500. */
  readonly error500?: number | undefined;
  /** HTTP 503. */
  readonly error503?: number | undefined;
  /** The connection is destroyed without a response. */
  readonly reset?: number | undefined;
  /** The response is delayed by `slowMs`. */
  readonly slow?: number | undefined;
  /** @default 5_000 */
  readonly slowMs?: number | undefined;
  /** A 429 that is not caused by this key's quota (another tenant, an overloaded region). */
  readonly foreign429?: number | undefined;
  /** retry-after of those 429s, ms. @default 1_000 */
  readonly foreign429RetryAfterMs?: number | undefined;
}

/** Options of `startSimulator`. */
export interface SimulatorOptions {
  /** @default 0 (any free port) */
  readonly port?: number | undefined;
  /** @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** Accepted API keys; when empty, any non-empty key is accepted. @default [] */
  readonly apiKeys?: readonly string[] | undefined;
  readonly quota?: SimulatorQuota | undefined;
  readonly latency?: SimulatorLatency | undefined;
  readonly faults?: SimulatorFaults | undefined;
  /** Seeds responses, latency and faults. @default 42 */
  readonly seed?: number | undefined;
  /** Models listed by `GET /v1/models`; any model name is accepted in requests. */
  readonly models?: readonly string[] | undefined;
  /** Completion length range in tokens, before `max_tokens` caps it. @default [20, 120] */
  readonly completionTokens?: readonly [number, number] | undefined;
  /** Output tokens charged when a request sets no `max_tokens`. @default 1_024 */
  readonly defaultMaxTokens?: number | undefined;
  /** The largest `max_tokens` accepted; more is a 400, as for a model's output limit. @default 131_072 */
  readonly maxOutputTokens?: number | undefined;
  /** The largest request body, bytes; a larger one is refused with 413 unread. @default 1_048_576 (1 MiB) */
  readonly maxBodyBytes?: number | undefined;
  /**
   * Model turns that call a tool before the final answer, when a request offers tools: with
   * 2, an agent makes three calls (tool, tool, answer). @default 1
   */
  readonly toolTurns?: number | undefined;
  /** @default a SystemClock */
  readonly clock?: Clock | undefined;
  /** @default a TiktokenCounter */
  readonly tokenCounter?: TokenCounter | undefined;
}

export const SIMULATOR_DEFAULTS = {
  host: '127.0.0.1',
  windowMs: 60_000,
  ttftMs: 40,
  perTokenMs: 0.5,
  jitter: 0.25,
  slowMs: 5_000,
  foreign429RetryAfterMs: 1_000,
  seed: 42,
  models: ['sim-small', 'sim-large', 'gpt-4o-mini'],
  completionTokens: [20, 120] as const,
  defaultMaxTokens: 1_024,
  maxOutputTokens: 131_072,
  maxBodyBytes: 1_048_576,
  toolTurns: 1,
} as const;

const isObject = (v: unknown) => typeof v === 'object' && v !== null;

/** Checks every option of `startSimulator`, throwing `InvalidArgumentError` naming each one out of range. */
export function checkSimulatorOptions(options: SimulatorOptions): void {
  const { positive, positiveInt, nonNegative, nonNegativeInt, ratio } = optionRules;
  checkOptions('SimulatorOptions', options, {
    port: numberIn(0, 65_535, 'a port'),
    host: optionRules.string,
    apiKeys: rule(
      'an array of non-empty strings',
      (v) => Array.isArray(v) && v.every((k) => typeof k === 'string' && k),
    ),
    quota: rule('an options object', isObject),
    latency: rule('an options object', isObject),
    faults: rule('an options object', isObject),
    seed: rule('an integer', Number.isInteger),
    models: rule('an array of strings', (v) => Array.isArray(v) && v.every((m) => typeof m === 'string')),
    completionTokens: rule(
      'a pair [min, max] of integers with 1 <= min <= max',
      (v) =>
        Array.isArray(v) &&
        v.length === 2 &&
        Number.isInteger(v[0]) &&
        Number.isInteger(v[1]) &&
        1 <= v[0] &&
        v[0] <= v[1],
    ),
    defaultMaxTokens: positiveInt,
    maxOutputTokens: positiveInt,
    maxBodyBytes: positiveInt,
    toolTurns: nonNegativeInt,
    clock: rule('a Clock', (v) => typeof (v as Clock | null)?.now === 'function'),
    tokenCounter: rule(
      'a TokenCounter',
      (v) => typeof (v as TokenCounter | null)?.countMessages === 'function',
    ),
  });
  checkOptions('SimulatorOptions.quota', options.quota, {
    requestsPerWindow: positiveInt,
    tokensPerWindow: positiveInt,
    windowMs: positive,
    subWindows: positiveInt,
    requestBudget: nonNegativeInt,
    inputTokensPerWindow: positiveInt,
    outputTokensPerWindow: positiveInt,
  });
  checkOptions('SimulatorOptions.latency', options.latency, {
    ttftMs: nonNegative,
    perTokenMs: nonNegative,
    jitter: ratio,
  });
  checkOptions('SimulatorOptions.faults', options.faults, {
    error500: ratio,
    error503: ratio,
    reset: ratio,
    slow: ratio,
    slowMs: nonNegative,
    foreign429: ratio,
    foreign429RetryAfterMs: nonNegative,
  });
}
