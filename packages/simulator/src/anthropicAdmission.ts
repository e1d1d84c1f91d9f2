// Admission of one Anthropic request: spend limit, faults, then the RPM/ITPM/OTPM buckets.
import type { IncomingMessage } from 'node:http';
import type { AnthropicCost, AnthropicQuota } from './anthropicQuota.js';
import type { SimulatorContext } from './context.js';
import { faultBeforeAdmission, retryHeaders } from './faults.js';
import { HttpError } from './HttpError.js';

/** An admitted Anthropic request. */
export interface AnthropicAdmission {
  readonly quota: AnthropicQuota;
  readonly sequence: number;
  /** The key's `anthropic-ratelimit-*` headers just after admission. */
  readonly headers: Record<string, string>;
}

/**
 * Admits a request as Anthropic does: a reached spend limit (`requestBudget`) is a 429
 * `rate_limit_error` with `details.error_code: 'enforced_spend_limit_reached'` and no
 * `retry-after`; then the faults; a cost above a bucket's capacity is a 400; a cost that
 * does not fit now a 429 with `retry-after` (whole seconds) and the bucket headers.
 * Undefined when a fault reset the connection.
 */
export function admitAnthropic(
  ctx: SimulatorContext,
  req: IncomingMessage,
  key: string,
  cost: AnthropicCost,
): AnthropicAdmission | undefined {
  const quota = ctx.anthropicQuotaFor(key);
  const now = ctx.clock.now();
  const headers = () => quota.headers(now, Date.now());
  if (quota.exhausted) {
    ctx.stats.quotaExhausted++;
    const message =
      'You have reached your specified API usage limits. You will regain access when the limit resets.';
    throw new HttpError(429, 'rate_limit_error', 'enforced_spend_limit_reached', message);
  }
  if (faultBeforeAdmission(ctx, req, headers)) return undefined;
  const big = quota.tooLarge(cost);
  if (big) {
    ctx.stats.badRequests++;
    const message = `This request would exceed your ${big.kind} rate limit of ${big.limit} per minute at once.`;
    throw HttpError.invalid(null, message, 'request_too_large');
  }
  const refusal = quota.check(cost, now);
  if (refusal) {
    ctx.stats.rateLimited++;
    const message = `This request would exceed the rate limit for your organization of ${refusal.limit} ${refusal.kind} per minute.`;
    const { 'retry-after': after = '1' } = retryHeaders(refusal.retryAfterMs);
    throw new HttpError(429, 'rate_limit_error', 'rate_limit_exceeded', message, {
      'retry-after': after,
      ...headers(),
    });
  }
  quota.admit(cost, now);
  const { stats } = ctx;
  stats.admitted++;
  stats.firstAdmissionMs ??= now;
  stats.lastAdmissionMs = now;
  stats.tokens.charged += cost.input + cost.output;
  return { quota, sequence: ctx.nextSequence(), headers: headers() };
}
