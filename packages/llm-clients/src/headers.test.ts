import { describe, expect, it } from 'vitest';
import { durationUpperBound, parseDuration, parseRateLimitHeaders, retryAfterMs } from './headers.js';

describe('provider headers', () => {
  it('parses the duration formats providers use', () => {
    expect(parseDuration('20ms')).toBe(20);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('1h2m3s')).toBe(3_723_000);
    expect(parseDuration('7')).toBe(7000);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('bounds a printed duration from above by one unit of its last digit', () => {
    expect(durationUpperBound('20ms')).toBe(21);
    expect(durationUpperBound('1.5s')).toBe(1600);
    expect(durationUpperBound('8.64s')).toBe(8650);
    expect(durationUpperBound('6m0s')).toBe(361_000);
    expect(durationUpperBound('7')).toBe(8000);
    expect(durationUpperBound('0.25')).toBe(260);
    expect(durationUpperBound('later')).toBeUndefined();
  });

  it('reads retry-after-ms, retry-after (seconds or date), Gemini retryDelay, then reset headers', () => {
    expect(retryAfterMs({ 'retry-after-ms': '250', 'retry-after': '9' })).toBe(250);
    expect(retryAfterMs({ 'retry-after': '3' })).toBe(3000);
    expect(
      retryAfterMs(
        { 'retry-after': 'Wed, 21 Oct 2026 07:28:05 GMT' },
        undefined,
        Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'),
      ),
    ).toBe(5000);
    const gemini = {
      error: {
        code: 429,
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '12s' }],
      },
    };
    expect(retryAfterMs({}, gemini)).toBe(12_000);
    expect(retryAfterMs({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1.2s' })).toBe(
      1300,
    );
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });

  it('reads only decimal seconds (or ms) and HTTP dates: a negative stays negative, hex is unreadable, huge is huge', () => {
    expect(retryAfterMs({ 'retry-after': '-5' })).toBe(-5000);
    expect(retryAfterMs({ 'retry-after': '0x10' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': '' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after': '1.5' })).toBe(1500);
    expect(retryAfterMs({ 'retry-after': '1e308' })).toBeGreaterThan(1e12);
    expect(Number.isFinite(retryAfterMs({ 'retry-after': '1e308' }))).toBe(true);
    expect(Number.isFinite(retryAfterMs({ 'retry-after': '9'.repeat(400) }))).toBe(true);
    expect(retryAfterMs({ 'retry-after-ms': '0x10' })).toBeUndefined();
    expect(retryAfterMs({ 'retry-after-ms': '0x10', 'retry-after': '2' })).toBe(2000);
    expect(retryAfterMs({ 'retry-after-ms': '-5' })).toBe(-5);
    expect(retryAfterMs({ 'retry-after-ms': ' ' })).toBeUndefined();
  });

  it('reads x-ratelimit headers from fetch Headers', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
    });
    expect(parseRateLimitHeaders(headers)).toEqual({
      limitRequests: 60,
      remainingRequests: 59,
      resetRequestsMs: 2000, // "1s" is anything below 2 s
    });
    expect(parseRateLimitHeaders({})).toBeUndefined();
  });

  it("reads Gemini's retryDelay from the error object the openai SDK keeps (APIError.error)", () => {
    const error = {
      code: 429,
      status: 'RESOURCE_EXHAUSTED',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '26s' }],
    };
    expect(retryAfterMs(undefined, error)).toBe(26_000);
  });
});
