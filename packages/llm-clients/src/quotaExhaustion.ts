// Telling a provider's exhausted quota (no refill within a window) from a rate limit.
import { errorObjects } from './errorBody.js';
import { parseDuration } from './headers.js';

/** What a refusal says about a quota that does not refill within a rate window. */
export interface QuotaExhaustion {
  /** The provider's own words. */
  readonly message: string;
  /** When the quota comes back (epoch ms), if the provider said. */
  readonly resetsAt?: number;
}

/**
 * Reads a 429's error body (or its `error` object): a {@link QuotaExhaustion} when the refusal is a used-up quota
 * or spend limit (no retry helps), `undefined` when it is an ordinary rate limit. One per
 * provider protocol; combine them with {@link anyQuotaExhaustion}.
 */
export type QuotaExhaustionDetector = (body: unknown, now: number) => QuotaExhaustion | undefined;

/** OpenAI's codes for a quota or spend limit, as `error.code` or `error.type`. */
const OPENAI_QUOTA_CODES = new Set([
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'enforced_spend_limit_reached',
  'spend_limit_reached',
  'quota_exceeded',
]);

const text = (v: unknown, fallback: string) => (typeof v === 'string' && v.length > 0 ? v : fallback);

/** OpenAI (and Azure): `insufficient_quota`, a billing or spend limit. */
export const openAIQuotaExhaustion: QuotaExhaustionDetector = (body) => {
  for (const error of errorObjects(body)) {
    const code = [error.code, error.type].find((c) => typeof c === 'string' && OPENAI_QUOTA_CODES.has(c));
    if (code) return { message: text(error.message, String(code)) };
  }
  return undefined;
};

/**
 * Gemini: `RESOURCE_EXHAUSTED` with a `google.rpc.QuotaFailure` violation whose `quotaId`
 * names a per-day quota. The reset is `now` + its `google.rpc.RetryInfo.retryDelay`, when sent.
 */
export const geminiQuotaExhaustion: QuotaExhaustionDetector = (body, now) => {
  for (const error of errorObjects(body)) {
    if (error.status !== 'RESOURCE_EXHAUSTED' || !Array.isArray(error.details)) continue;
    const details = error.details as Array<{ violations?: unknown; retryDelay?: string }>;
    const perDay = details.some(
      (d) =>
        Array.isArray(d?.violations) &&
        d.violations.some((v: { quotaId?: unknown }) => /PerDay/i.test(String(v?.quotaId ?? ''))),
    );
    if (!perDay) continue;
    const delay = details.map((d) => parseDuration(d?.retryDelay)).find((ms) => ms !== undefined);
    return {
      message: text(error.message, 'per-day quota exhausted'),
      ...(delay !== undefined ? { resetsAt: now + delay } : {}),
    };
  }
  return undefined;
};

/** The first detector that recognises the body wins. */
export function anyQuotaExhaustion(
  ...detectors: readonly QuotaExhaustionDetector[]
): QuotaExhaustionDetector {
  return (body, now) => {
    for (const detect of detectors) {
      const found = detect(body, now);
      if (found) return found;
    }
    return undefined;
  };
}
