/** Options of retries in the governed client. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 4 */
  readonly maxAttempts?: number | undefined;
  /** @default 500 */
  readonly baseDelayMs?: number | undefined;
  /** @default 30_000 */
  readonly maxDelayMs?: number | undefined;
}

export const DEFAULT_RETRY = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000 } as const;

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(max, base × 2^(attempt-1))].
 * Spreads retries of many callers that failed together.
 */
export function fullJitterDelay(
  attempt: number,
  options: Required<RetryOptions>,
  random: () => number,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}
