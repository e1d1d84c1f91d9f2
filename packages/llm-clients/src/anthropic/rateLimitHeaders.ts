/** Anthropic's `anthropic-ratelimit-*` response headers, read into the common `RateLimitInfo`. */
import { type HeaderSource, header } from '../headers.js';
import type { RateLimitInfo } from '../types.js';

/** Our field names for each of Anthropic's limits (`tokens` is the most restrictive token limit). */
const LIMITS = [
  ['requests', 'Requests'],
  ['tokens', 'Tokens'],
  ['input-tokens', 'InputTokens'],
  ['output-tokens', 'OutputTokens'],
] as const;

/**
 * Reads `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`.
 * A reset is an RFC 3339 time at which the bucket is full again; it becomes the ms from
 * `now` until then (at least 0), rounded up to the next whole second since Anthropic prints
 * whole seconds. `undefined` when no such header is present.
 */
export function parseAnthropicRateLimitHeaders(
  headers: HeaderSource | undefined,
  now = Date.now(),
): RateLimitInfo | undefined {
  const info: Record<string, number> = {};
  for (const [name, field] of LIMITS) {
    const limit = count(header(headers, `anthropic-ratelimit-${name}-limit`));
    const remaining = count(header(headers, `anthropic-ratelimit-${name}-remaining`));
    const reset = untilTime(header(headers, `anthropic-ratelimit-${name}-reset`), now);
    if (limit !== undefined) info[`limit${field}`] = limit;
    if (remaining !== undefined) info[`remaining${field}`] = remaining;
    if (reset !== undefined) info[`reset${field}Ms`] = reset;
  }
  return Object.keys(info).length > 0 ? (info as RateLimitInfo) : undefined;
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*-?\d+(?:\.\d+)?\s*$/.test(text)) return undefined;
  return Number(text);
}

/** ms from `now` to an RFC 3339 time, plus the second it may have been truncated by. */
function untilTime(text: string | undefined, now: number): number | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(text.trim())) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  const whole = !/\.\d/.test(text);
  return Math.max(0, at - now + (whole ? 1000 : 0));
}
