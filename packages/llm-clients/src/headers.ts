// Reading provider headers: durations, retry-after, and the rate-limit headers.
import { errorObjects } from './errorBody.js';
import type { RateLimitInfo } from './types.js';

/** Anything with a `get(name)` for headers (fetch's `Headers`), or a plain record. */
export type HeaderSource =
  | { get(name: string): string | null }
  | Readonly<Record<string, string | undefined>>;

/** The value of header `name`, from fetch `Headers` or a plain record. */
export function header(source: HeaderSource | undefined, name: string): string | undefined {
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
  return readDuration(text)?.ms;
}

/**
 * The most a printed duration can stand for: its value plus one unit of its last digit
 * (`1.5s` → 1600, `20ms` → 21, `6m0s` → 361000), since providers round or truncate what
 * they print. `undefined` if unreadable.
 */
export function durationUpperBound(text: string | undefined): number | undefined {
  const d = readDuration(text);
  return d && d.ms + d.resolution;
}

const UNIT_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

function readDuration(text: string | undefined): { ms: number; resolution: number } | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  const bare = /^\d+(?:\.(\d+))?$/.exec(value);
  if (bare) return { ms: Number(value) * 1000, resolution: 1000 / 10 ** (bare[1]?.length ?? 0) };
  const re = /(\d+(?:\.(\d+))?)(ms|h|m|s)/g;
  let total = 0;
  let consumed = 0;
  let resolution = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const unit = UNIT_MS[m[3]!]!;
    total += Number(m[1]) * unit;
    resolution = unit / 10 ** (m[2]?.length ?? 0);
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? { ms: total, resolution } : undefined;
}

/**
 * How long a provider asked us to wait, in ms: `retry-after-ms`, then `retry-after`
 * (decimal seconds or an HTTP date; a negative comes back negative, for the caller to
 * ignore), then Gemini's `retryDelay` in the error body, then the
 * reset headers of whichever limit is exhausted.
 */
export function retryAfterMs(
  headers: HeaderSource | undefined,
  body?: unknown,
  now = Date.now(),
): number | undefined {
  const ms = decimal(header(headers, 'retry-after-ms'));
  if (ms !== undefined) return ms;
  const after = header(headers, 'retry-after');
  const seconds = decimal(after);
  if (seconds !== undefined) return finite(seconds * 1000);
  // An HTTP date names a day and a month: anything without a letter is not one.
  const date = after !== undefined && /[a-z]/i.test(after) ? Date.parse(after) : Number.NaN;
  if (!Number.isNaN(date)) return Math.max(0, date - now);
  const delay = geminiRetryDelay(body);
  if (delay !== undefined) return delay;
  const info = parseRateLimitHeaders(headers);
  if (info?.remainingRequests === 0 && info.resetRequestsMs !== undefined) return info.resetRequestsMs;
  if (info?.remainingTokens === 0 && info.resetTokensMs !== undefined) return info.resetTokensMs;
  return undefined;
}

/**
 * A plain decimal number (`12`, `-5`, `1.5`, `1e3`), or `undefined` for anything else
 * (`0x10`, blanks, `Infinity`). A negative is returned as such, for the caller to refuse
 * (and log); one too large for a double is the largest finite number, not `Infinity`.
 */
function decimal(text: string | undefined): number | undefined {
  const value = text?.trim();
  if (!value || !/^[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?$/i.test(value)) return undefined;
  return finite(Number(value));
}

const finite = (n: number) => Math.max(-Number.MAX_VALUE, Math.min(Number.MAX_VALUE, n));

function geminiRetryDelay(body: unknown): number | undefined {
  for (const { details } of errorObjects(body)) {
    if (!Array.isArray(details)) continue;
    for (const d of details) {
      const delay = parseDuration((d as { retryDelay?: string }).retryDelay);
      if (delay !== undefined) return delay;
    }
  }
  return undefined;
}

/**
 * OpenAI's `openai-processing-ms` (how long it had been processing the request when its
 * reply's headers left): a plain non-negative decimal of milliseconds, or `undefined` when
 * absent or anything else (a sign, an exponent, garbage). A huge value is kept: its user
 * clamps it (`GovernorLease.endHold` to the time since the grant).
 */
export function parseProcessingMs(headers: HeaderSource | undefined): number | undefined {
  const value = header(headers, 'openai-processing-ms')?.trim();
  if (!value || !/^\d{1,20}(?:\.\d{1,20})?$/.test(value)) return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * A provider's processing time as a hold's `agoMs`: the provider cannot have had the call
 * before it was sent, so it is at most `sinceSentMs`, whatever the header said (a hostile
 * or skewed value, or a lease granted long before the send). `undefined` and NaN stay
 * `undefined` (the hold ends now).
 */
export function processingAgoMs(processingMs: number | undefined, sinceSentMs: number): number | undefined {
  if (processingMs === undefined || Number.isNaN(processingMs)) return undefined;
  return Math.max(0, Math.min(processingMs, sinceSentMs));
}

/**
 * Reads `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` and `openai-processing-ms`;
 * `undefined` when none is present. Resets are upper bounds (see `durationUpperBound`): the time until the limit is
 * back to its initial state, at the latest.
 */
export function parseRateLimitHeaders(headers: HeaderSource | undefined): RateLimitInfo | undefined {
  const num = (name: string) => {
    const v = header(headers, name);
    const n = v === undefined ? Number.NaN : Number(v);
    return Number.isFinite(n) ? n : undefined;
  };
  const info: Record<string, number | undefined> = {
    limitRequests: num('x-ratelimit-limit-requests'),
    remainingRequests: num('x-ratelimit-remaining-requests'),
    resetRequestsMs: durationUpperBound(header(headers, 'x-ratelimit-reset-requests')),
    limitTokens: num('x-ratelimit-limit-tokens'),
    remainingTokens: num('x-ratelimit-remaining-tokens'),
    resetTokensMs: durationUpperBound(header(headers, 'x-ratelimit-reset-tokens')),
    processingMs: parseProcessingMs(headers),
  };
  const present = Object.entries(info).filter(([, v]) => v !== undefined);
  return present.length > 0 ? (Object.fromEntries(present) as RateLimitInfo) : undefined;
}
