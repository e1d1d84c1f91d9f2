// One API key's Anthropic quota: RPM, ITPM and OTPM as continuous-refill buckets, and a spend limit.
import { ContinuousBucket } from './ContinuousBucket.js';
import type { SimulatorQuota } from './options.js';

/** Which bucket refused a request, and when it will fit. */
export interface BucketRefusal {
  readonly kind: 'requests' | 'input-tokens' | 'output-tokens';
  readonly retryAfterMs: number;
  readonly limit: number;
}

/** What one Anthropic request costs at admission: one request, its input, its `max_tokens`. */
export interface AnthropicCost {
  readonly input: number;
  readonly output: number;
}

/**
 * An Anthropic key's limits: `requestsPerWindow`, `inputTokensPerWindow` and
 * `outputTokensPerWindow` per `windowMs`, each a {@link ContinuousBucket}. Output is
 * charged as `max_tokens` at admission and corrected to the real output when the reply
 * ends, as Anthropic does. `requestBudget` plays the spend limit.
 */
export class AnthropicQuota {
  readonly #buckets: Array<[BucketRefusal['kind'], ContinuousBucket]> = [];
  readonly #budget: number;
  #admitted = 0;

  constructor(quota: SimulatorQuota, defaultWindowMs: number) {
    const windowMs = quota.windowMs ?? defaultWindowMs;
    this.#budget = quota.requestBudget ?? Number.POSITIVE_INFINITY;
    const limits = [
      ['requests', quota.requestsPerWindow],
      ['input-tokens', quota.inputTokensPerWindow],
      ['output-tokens', quota.outputTokensPerWindow],
    ] as const;
    for (const [kind, limit] of limits) {
      if (limit !== undefined) this.#buckets.push([kind, new ContinuousBucket(limit, windowMs)]);
    }
  }

  /** Whether the spend limit is reached: no wait will help. */
  get exhausted(): boolean {
    return this.#admitted >= this.#budget;
  }

  /** A part of `cost` larger than its bucket's capacity (it can never be admitted), if any. */
  tooLarge(cost: AnthropicCost): BucketRefusal | undefined {
    for (const [kind, bucket] of this.#buckets) {
      if (this.#weight(kind, cost) > bucket.capacity)
        return { kind, retryAfterMs: 0, limit: bucket.capacity };
    }
    return undefined;
  }

  /** The refusal with the longest wait, or undefined when `cost` fits now. */
  check(cost: AnthropicCost, now: number): BucketRefusal | undefined {
    let worst: BucketRefusal | undefined;
    for (const [kind, bucket] of this.#buckets) {
      const retryAfterMs = bucket.waitMs(this.#weight(kind, cost), now);
      if (retryAfterMs > 0 && (!worst || retryAfterMs > worst.retryAfterMs)) {
        worst = { kind, retryAfterMs, limit: bucket.capacity };
      }
    }
    return worst;
  }

  admit(cost: AnthropicCost, now: number): void {
    this.#admitted++;
    for (const [kind, bucket] of this.#buckets) bucket.take(this.#weight(kind, cost), now);
  }

  /** Gives back the output reserved but not produced. */
  settleOutput(unused: number, now: number): void {
    if (unused <= 0) return;
    for (const [kind, bucket] of this.#buckets) if (kind === 'output-tokens') bucket.give(unused, now);
  }

  /**
   * `anthropic-ratelimit-{requests,input-tokens,output-tokens,tokens}-{limit,remaining,reset}`,
   * `reset` an RFC 3339 time (wall clock `wallNow` + the time until the bucket is full);
   * `tokens-*` repeats the token bucket with the least left.
   */
  headers(now: number, wallNow: number): Record<string, string> {
    const out: Record<string, string> = {};
    let tightest: [ContinuousBucket, number] | undefined;
    for (const [kind, bucket] of this.#buckets) {
      const remaining = Math.max(0, Math.floor(bucket.level(now)));
      Object.assign(out, bucketHeaders(kind, bucket, remaining, now, wallNow));
      if (kind !== 'requests' && (!tightest || remaining < tightest[1])) tightest = [bucket, remaining];
    }
    if (tightest) Object.assign(out, bucketHeaders('tokens', tightest[0], tightest[1], now, wallNow));
    return out;
  }

  #weight(kind: BucketRefusal['kind'], cost: AnthropicCost): number {
    return kind === 'requests' ? 1 : kind === 'input-tokens' ? cost.input : cost.output;
  }
}

function bucketHeaders(
  kind: string,
  bucket: ContinuousBucket,
  remaining: number,
  now: number,
  wallNow: number,
) {
  const reset = new Date(wallNow + Math.ceil(bucket.fullInMs(now))).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    [`anthropic-ratelimit-${kind}-limit`]: String(bucket.capacity),
    [`anthropic-ratelimit-${kind}-remaining`]: String(remaining),
    [`anthropic-ratelimit-${kind}-reset`]: reset,
  };
}
