// The x-ratelimit-* and retry-after headers that describe one key's own limits.
import type { ResourceStatus } from '@tollgate/limits';

/** Seconds as providers print them: `1s`, `0.25s`, `60s`. */
const seconds = (ms: number) => `${Math.max(0, Math.round(ms) / 1000)}s`;

/**
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` from a governor's status: for each
 * resource, its limit with the shortest window. The reset is an upper bound: a full window
 * when anything is in use, `0s` when nothing is.
 */
export function rateLimitHeaders(status: ResourceStatus): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const resource of ['requests', 'tokens']) {
    const limits = Object.values(status.limits).filter((l) => l.resource === resource);
    const shortest = limits.sort((a, b) => a.windowMs - b.windowMs)[0];
    if (!shortest) continue;
    headers[`x-ratelimit-limit-${resource}`] = String(shortest.limit);
    headers[`x-ratelimit-remaining-${resource}`] = String(Math.max(0, Math.floor(shortest.remaining)));
    headers[`x-ratelimit-reset-${resource}`] = seconds(
      shortest.remaining >= shortest.capacity ? 0 : shortest.windowMs,
    );
  }
  return headers;
}

/** `retry-after` (whole seconds, rounded up) and `retry-after-ms`. */
export function retryAfterHeaders(ms: number): Record<string, string> {
  const wait = Math.max(0, Math.ceil(ms));
  return { 'retry-after': String(Math.ceil(wait / 1000)), 'retry-after-ms': String(wait) };
}
