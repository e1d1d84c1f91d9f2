// The circuit breaker as a hook of the retry loop: a permit per attempt, reported once.
import { ProviderError, ProviderRateLimitError } from '../errors.js';
import type { CircuitPermit } from './CircuitBreaker.js';
import type { AttemptHook, AttemptListener } from './hooks.js';

/** What the hook needs of a breaker: a permit per call, or a throw while the circuit is open. */
export interface Breaker {
  check(): CircuitPermit;
}

/**
 * Asks `breaker` for a permit before every attempt (a `CircuitOpenError` refuses it) and
 * reports how the attempt ended: only retryable provider failures count as failures; a
 * 429, an abort or a refusal by a governor gives a probe back.
 */
export function breakerHook(breaker: Breaker): AttemptHook {
  return {
    begin(): AttemptListener {
      const permit = breaker.check();
      // Methods, not arrow properties: nothing per attempt besides this object and its scope.
      return {
        succeeded() {
          permit.success();
        },
        failed(error, aborted) {
          if (!aborted && ProviderError.is(error) && error.isRetryable && !ProviderRateLimitError.is(error)) {
            permit.failure();
          } else permit.neutral();
        },
        ended() {
          permit.neutral(); // whatever else happened, the probe (if this was it) is given back
        },
      };
    },
  };
}
