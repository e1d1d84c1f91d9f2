import { describe, expect, it } from 'vitest';
import {
  AbortError,
  abortReason,
  InvalidLimitsError,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TaskTimeoutError,
} from './errors.js';
import { TollgateError } from './TollgateError.js';

describe('TollgateError', () => {
  it('brands errors so is() works by code, not by prototype', () => {
    const e = new ResourceLimitExceededError({
      limit: 'tokensPerMinute',
      requested: 10,
      available: 3,
      retryAfterMs: 420,
      reason: 'tokensPerMinute: 10 requested, 3 available',
    });
    expect(TollgateError.is(e)).toBe(true);
    expect(ResourceLimitExceededError.is(e)).toBe(true);
    expect(TaskTimeoutError.is(e)).toBe(false);
    expect(e.name).toBe('ResourceLimitExceededError');
    expect(e.code).toBe('RESOURCE_LIMIT_EXCEEDED');
    expect(e.isRetryable).toBe(true);
    // A structurally identical object from "another copy" of the package is recognised.
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('tollgate.error')]: true,
      code: 'TASK_TIMEOUT',
    });
    expect(TaskTimeoutError.is(foreign)).toBe(true);
    expect(TollgateError.is(new Error('plain'))).toBe(false);
    expect(TollgateError.is(null)).toBe(false);
  });

  it('marks a request that can never fit as not retryable', () => {
    const e = new ResourceLimitExceededError({
      limit: 'tokensPerMinute',
      requested: 1e6,
      available: 100,
      retryAfterMs: Number.POSITIVE_INFINITY,
      reason: 'too big',
    });
    expect(e.isRetryable).toBe(false);
  });

  it('names the field, the expectation and the value of invalid limits', () => {
    const e = new InvalidLimitsError([
      { field: 'maxTokensPerMinute', expected: 'a number greater than 0', received: -5 },
      { field: 'algorithm', expected: "'token-bucket' or 'sliding-window'", received: 'leaky' },
    ]);
    expect(e.field).toBe('maxTokensPerMinute');
    expect(e.received).toBe(-5);
    expect(e.message).toContain(
      'Expected `maxTokensPerMinute` to be a number greater than 0, got -5 (number)',
    );
    expect(e.message).toContain("got 'leaky' (string)");
    expect(e.issues).toHaveLength(2);
  });

  it('keeps causes and gives timeouts a clear message', () => {
    const cause = new Error('inner');
    expect(new AbortError('stop', cause).cause).toBe(cause);
    expect(new ResourceWaitTimeoutError(1500, 'requestsPerMinute').message).toMatch(
      /1500 ms \(requestsPerMinute\)/,
    );
  });

  it('abortReason passes Tollgate reasons through and wraps others', () => {
    const timeout = new AbortController();
    timeout.abort(new TaskTimeoutError(10));
    expect(TaskTimeoutError.is(abortReason(timeout.signal))).toBe(true);
    const user = new AbortController();
    user.abort('user');
    const reason = abortReason(user.signal);
    expect(AbortError.is(reason)).toBe(true);
    expect(reason.cause).toBe('user');
  });
});
