/** How a rate limit counts. */
export type RateAlgorithm = 'token-bucket' | 'sliding-window';

/** The names of the rate limits `ResourceLimits` has fields for. */
export type BuiltinRateName =
  | 'requestsPerMinute'
  | 'requestsPerDay'
  | 'tokensPerMinute'
  | 'tokensPerHour'
  | 'toolCallsPerMinute'
  | 'toolCallsPerHour'
  | 'inputTokensPerMinute'
  | 'outputTokensPerMinute';

/**
 * A rate limit on any resource: at most `limit` units of `resource` per `windowMs`.
 *
 * @example
 * // Seven agent starts per minute, never more in any 60 s.
 * { name: 'agentStartsPerMinute', resource: 'agentStarts', limit: 7, windowMs: 60_000, algorithm: 'sliding-window' }
 */
export interface RateLimitSpec {
  /** Unique name used in status, events and errors. @default `${resource}Per${windowMs}ms` */
  readonly name?: string | undefined;
  /** The cost key this rate charges (`requests`, `tokens`, `toolCalls`, or your own). */
  readonly resource: string;
  /** Units allowed per window. */
  readonly limit: number;
  /** The window, in milliseconds. */
  readonly windowMs: number;
  /** Token bucket capacity (the most that can be taken at once). @default limit */
  readonly burst?: number | undefined;
  /** @default the limits' `algorithm` */
  readonly algorithm?: RateAlgorithm | undefined;
}

/**
 * Resource limits for a governor. Every field is optional: a missing limit does not
 * limit. Config files and env may use the snake_case names (`max_tokens_per_minute`).
 */
export interface ResourceLimits {
  /** Tasks running at once (`runTask`, or any acquire with a `task` cost). */
  readonly maxConcurrentTasks?: number | undefined;
  /** LLM requests per minute. */
  readonly maxRequestsPerMinute?: number | undefined;
  /** LLM requests per day. */
  readonly maxRequestsPerDay?: number | undefined;
  /** Tokens (prompt + completion) per minute. */
  readonly maxTokensPerMinute?: number | undefined;
  /** Tokens per hour. */
  readonly maxTokensPerHour?: number | undefined;
  /** Capacity of the tokens-per-minute bucket: the most tokens taken in one burst. @default maxTokensPerMinute */
  readonly tokenBurstSize?: number | undefined;
  /** Capacity of the requests-per-minute bucket. @default maxRequestsPerMinute */
  readonly requestBurstSize?: number | undefined;
  /** Tool calls per minute. */
  readonly maxToolCallsPerMinute?: number | undefined;
  /** Tool calls per hour. */
  readonly maxToolCallsPerHour?: number | undefined;
  /** Capacity of the tool-calls-per-minute bucket. @default maxToolCallsPerMinute */
  readonly toolCallBurstSize?: number | undefined;
  /**
   * Input (prompt) tokens per minute, charged from a cost's `inputTokens`, for providers
   * that limit input and output apart (Anthropic's ITPM, Gemini's input TPM).
   */
  readonly maxInputTokensPerMinute?: number | undefined;
  /** Capacity of the input-tokens-per-minute bucket. @default maxInputTokensPerMinute */
  readonly inputTokenBurstSize?: number | undefined;
  /** Output (completion) tokens per minute, charged from a cost's `outputTokens` (Anthropic's OTPM). */
  readonly maxOutputTokensPerMinute?: number | undefined;
  /** Capacity of the output-tokens-per-minute bucket. @default maxOutputTokensPerMinute */
  readonly outputTokenBurstSize?: number | undefined;
  /** New tasks wait (or are rejected) while the process uses more memory than this. */
  readonly maxMemoryMb?: number | undefined;
  /** A task running longer is aborted with `TaskTimeoutError`. @default no timeout */
  readonly taskTimeoutSeconds?: number | undefined;
  /** A caller waiting longer for resources fails with `ResourceWaitTimeoutError`. @default 300 */
  readonly resourceWaitTimeoutSeconds?: number | undefined;
  /** `false` is monitor mode: never block, only report what would have been limited. @default true */
  readonly enforceLimits?: boolean | undefined;
  /** `true` fails at once with `ResourceLimitExceededError` instead of waiting. @default false */
  readonly rejectOnLimit?: boolean | undefined;
  /** Algorithm of every built-in rate limit. @default 'token-bucket' */
  readonly algorithm?: RateAlgorithm | undefined;
  /** Per-limit algorithm overrides, e.g. `{ requestsPerMinute: 'sliding-window' }`. */
  readonly algorithms?: Readonly<Partial<Record<BuiltinRateName, RateAlgorithm>>> | undefined;
  /** Any further rate limits. */
  readonly rates?: readonly RateLimitSpec[] | undefined;
  /**
   * Divides every window (built-in and custom) by this factor, so "per minute" limits can
   * run time-compressed in demos and tests: with 60, a minute lasts one second. @default 1
   */
  readonly timeScale?: number | undefined;
  /**
   * Added to every window after `timeScale`, in ms. A strict provider window measured on
   * the provider's clock sees our requests shifted by network jitter; a little padding
   * absorbs it. @default 0
   */
  readonly windowPaddingMs?: number | undefined;
}

/** Defaults applied by `parseResourceLimits`. */
export const DEFAULT_LIMITS = {
  resourceWaitTimeoutSeconds: 300,
  enforceLimits: true,
  rejectOnLimit: false,
  algorithm: 'token-bucket',
  timeScale: 1,
  windowPaddingMs: 0,
} as const satisfies Partial<ResourceLimits>;

declare const parsed: unique symbol;

/**
 * A validated, normalised `ResourceLimits`: defaults applied, frozen. Only
 * `parseResourceLimits` makes one (it remembers what it returned; the brand below exists
 * in types only, so no marker shows in the object, its JSON or any message).
 */
export type ParsedResourceLimits = ResourceLimits & {
  readonly resourceWaitTimeoutSeconds: number;
  readonly enforceLimits: boolean;
  readonly rejectOnLimit: boolean;
  readonly algorithm: RateAlgorithm;
  readonly timeScale: number;
  readonly windowPaddingMs: number;
  readonly [parsed]: true;
};

/** A rate limit with every field resolved. */
export interface ResolvedRate {
  readonly name: string;
  readonly resource: string;
  readonly limit: number;
  readonly windowMs: number;
  readonly burst: number;
  readonly algorithm: RateAlgorithm;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The longest window, task timeout or finite wait timeout the limits accept: 366 days.
 * Longer is almost surely a unit mistake (seconds given as milliseconds).
 */
export const MAX_DURATION_MS = 366 * DAY;

/** A built-in rate and the `ResourceLimits` fields that set it. */
export interface BuiltinRate {
  readonly name: BuiltinRateName;
  readonly resource: string;
  readonly windowMs: number;
  readonly limit: keyof ResourceLimits;
  readonly burst?: keyof ResourceLimits;
}

/** The built-in rates, in the order `resolveRates` lists them. */
export const BUILTIN_RATES: readonly BuiltinRate[] = [
  {
    name: 'requestsPerMinute',
    resource: 'requests',
    windowMs: MINUTE,
    limit: 'maxRequestsPerMinute',
    burst: 'requestBurstSize',
  },
  { name: 'requestsPerDay', resource: 'requests', windowMs: DAY, limit: 'maxRequestsPerDay' },
  {
    name: 'tokensPerMinute',
    resource: 'tokens',
    windowMs: MINUTE,
    limit: 'maxTokensPerMinute',
    burst: 'tokenBurstSize',
  },
  { name: 'tokensPerHour', resource: 'tokens', windowMs: HOUR, limit: 'maxTokensPerHour' },
  {
    name: 'toolCallsPerMinute',
    resource: 'toolCalls',
    windowMs: MINUTE,
    limit: 'maxToolCallsPerMinute',
    burst: 'toolCallBurstSize',
  },
  { name: 'toolCallsPerHour', resource: 'toolCalls', windowMs: HOUR, limit: 'maxToolCallsPerHour' },
  {
    name: 'inputTokensPerMinute',
    resource: 'inputTokens',
    windowMs: MINUTE,
    limit: 'maxInputTokensPerMinute',
    burst: 'inputTokenBurstSize',
  },
  {
    name: 'outputTokensPerMinute',
    resource: 'outputTokens',
    windowMs: MINUTE,
    limit: 'maxOutputTokensPerMinute',
    burst: 'outputTokenBurstSize',
  },
];

/** Default name of a custom rate. */
export function defaultRateName(spec: Pick<RateLimitSpec, 'resource' | 'windowMs'>): string {
  return `${spec.resource}Per${spec.windowMs}ms`;
}

/** The algorithm of built-in rate `name` under `limits`. */
export function builtinAlgorithm(limits: ResourceLimits, name: BuiltinRateName): RateAlgorithm {
  return limits.algorithms?.[name] ?? limits.algorithm ?? DEFAULT_LIMITS.algorithm;
}

/** Every rate limit that `limits` sets, built-in ones first, with windows scaled by `timeScale`. */
export function resolveRates(limits: ResourceLimits): ResolvedRate[] {
  const scale = limits.timeScale ?? 1;
  const padding = limits.windowPaddingMs ?? 0;
  const defaultAlgorithm = limits.algorithm ?? DEFAULT_LIMITS.algorithm;
  const rates: ResolvedRate[] = [];
  for (const b of BUILTIN_RATES) {
    const limit = limits[b.limit] as number | undefined;
    if (limit === undefined) continue;
    const burst = b.burst ? (limits[b.burst] as number | undefined) : undefined;
    rates.push({
      name: b.name,
      resource: b.resource,
      limit,
      windowMs: b.windowMs / scale + padding,
      burst: burst ?? limit,
      algorithm: builtinAlgorithm(limits, b.name),
    });
  }
  for (const r of limits.rates ?? []) {
    rates.push({
      name: r.name ?? defaultRateName(r),
      resource: r.resource,
      limit: r.limit,
      windowMs: r.windowMs / scale + padding,
      burst: r.burst ?? r.limit,
      algorithm: r.algorithm ?? defaultAlgorithm,
    });
  }
  return rates;
}
