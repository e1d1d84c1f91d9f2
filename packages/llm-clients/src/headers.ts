import type { RateLimitInfo } from './types.js';

/** Anything with a `get(name)` for headers (fetch's `Headers`), or a plain record. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | undefined>>;

function header(source: HeaderSource | undefined, name: string): string | undefined {
  if (!source) return undefined;
  if (typeof (source as { get?: unknown }).get === 'function') {
    return (source as { get(name: string): string | null }).get(name) ?? undefined;
  }
  return (source as Record<string, string | undefined>)[name];
}

/**
 * Parses the duration formats providers use: `6m0s`, `1.5s`, `20ms`, `1h2m3s`, `12s`
 * (Gemini's `retryDelay`), or a bare number of seconds. `undefined` if unreadable.
 */
export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const n = Number(m[1]);
    total += m[2] === 'h' ? n * 3_600_000 : m[2] === 'm' ? n * 60_000 : m[2] === 's' ? n * 1000 : n;
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? total : undefined;
}

/**
 * How long a provider asked us to wait, in ms: `retry-after-ms`, then `retry-after`
 * (seconds or an HTTP date), then Gemini's `retryDelay` in the error body, then the
 * reset headers of whichever limit is exhausted.
 */
export function retryAfterMs(
  headers: HeaderSource | undefined,
  body?: unknown,
  now = Date.now(),
): number | undefined {
  const ms = Number(header(headers, 'retry-after-ms'));
  if (header(headers, 'retry-after-ms') !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const after = header(headers, 'retry-after');
  if (after !== undefined) {
    const seconds = Number(after);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(after);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const delay = geminiRetryDelay(body);
  if (delay !== undefined) return delay;
  const info = parseRateLimitHeaders(headers);
  if (info?.remainingRequests === 0 && info.resetRequestsMs !== undefined) return info.resetRequestsMs;
  if (info?.remainingTokens === 0 && info.resetTokensMs !== undefined) return info.resetTokensMs;
  return undefined;
}

function geminiRetryDelay(body: unknown): number | undefined {
  const list = Array.isArray(body) ? body : [body];
  for (const item of list) {
    const details = (item as { error?: { details?: unknown } } | undefined)?.error?.details;
    if (!Array.isArray(details)) continue;
    for (const d of details) {
      const delay = parseDuration((d as { retryDelay?: string }).retryDelay);
      if (delay !== undefined) return delay;
    }
  }
  return undefined;
}

/** Reads `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`; `undefined` when none is present. */
export function parseRateLimitHeaders(headers: HeaderSource | undefined): RateLimitInfo | undefined {
  const num = (name: string) => {
    const v = header(headers, name);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const info: Record<string, number | undefined> = {
    limitRequests: num('x-ratelimit-limit-requests'),
    remainingRequests: num('x-ratelimit-remaining-requests'),
    resetRequestsMs: parseDuration(header(headers, 'x-ratelimit-reset-requests')),
    limitTokens: num('x-ratelimit-limit-tokens'),
    remainingTokens: num('x-ratelimit-remaining-tokens'),
    resetTokensMs: parseDuration(header(headers, 'x-ratelimit-reset-tokens')),
  };
  const present = Object.entries(info).filter(([, v]) => v !== undefined);
  return present.length > 0 ? (Object.fromEntries(present) as RateLimitInfo) : undefined;
}
