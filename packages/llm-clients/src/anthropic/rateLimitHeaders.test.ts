import { describe, expect, it } from 'vitest';
import { anthropicQuotaExhaustion } from './errors.js';
import { parseAnthropicRateLimitHeaders } from './rateLimitHeaders.js';

describe('Anthropic rate-limit headers and refusals', () => {
  const now = Date.parse('2026-11-29T12:00:00.250Z');

  it('reads the four limits, resets as RFC 3339 times bounded up to the next second', () => {
    const info = parseAnthropicRateLimitHeaders(
      new Headers({
        'anthropic-ratelimit-requests-limit': '50',
        'anthropic-ratelimit-requests-remaining': '49',
        'anthropic-ratelimit-requests-reset': '2026-11-29T12:00:01Z',
        'anthropic-ratelimit-input-tokens-limit': '30000',
        'anthropic-ratelimit-input-tokens-remaining': '29000',
        'anthropic-ratelimit-input-tokens-reset': '2026-11-29T12:00:02.500Z',
        'anthropic-ratelimit-output-tokens-limit': '8000',
        'anthropic-ratelimit-output-tokens-remaining': '7000',
        'anthropic-ratelimit-output-tokens-reset': '2026-11-29T11:59:00Z',
        'anthropic-ratelimit-tokens-remaining': '7000',
      }),
      now,
    );
    expect(info).toEqual({
      limitRequests: 50,
      remainingRequests: 49,
      resetRequestsMs: 1_750, // "12:00:01Z" may stand for up to 12:00:01.999
      remainingTokens: 7000,
      limitInputTokens: 30_000,
      remainingInputTokens: 29_000,
      resetInputTokensMs: 2_250,
      limitOutputTokens: 8_000,
      remainingOutputTokens: 7_000,
      resetOutputTokensMs: 0, // in the past: full already
    });
    expect(parseAnthropicRateLimitHeaders({ 'x-ratelimit-limit-requests': '5' }, now)).toBeUndefined();
    expect(
      parseAnthropicRateLimitHeaders(
        { 'anthropic-ratelimit-requests-remaining': 'lots', 'anthropic-ratelimit-requests-reset': 'soon' },
        now,
      ),
    ).toBeUndefined();
  });

  it('tells a spend limit from a rate limit', () => {
    const spend = {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'limit reached',
        details: { error_code: 'enforced_spend_limit_reached' },
      },
    };
    expect(anthropicQuotaExhaustion(spend, now)).toEqual({ message: 'limit reached' });
    const billing = { type: 'error', error: { type: 'billing_error', message: 'no credit' } };
    expect(anthropicQuotaExhaustion(billing, now)?.message).toBe('no credit');
    const ramp = {
      type: 'error',
      error: {
        type: 'rate_limit_error',
        message: 'slow down',
        details: { error_code: 'ramp_limit_exceeded' },
      },
    };
    expect(anthropicQuotaExhaustion(ramp, now)).toBeUndefined();
    expect(
      anthropicQuotaExhaustion({ error: { type: 'rate_limit_error', message: 'x' } }, now),
    ).toBeUndefined();
  });
});
