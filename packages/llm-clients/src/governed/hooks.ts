// The hooks the retry loop calls around each attempt: how the breaker and header feedback plug in.
import type { RateLimitInfo } from '../types.js';

/**
 * Something that watches (and may refuse) every attempt of a governed call, as
 * cockatiel's policies wrap an execution: the circuit breaker and the rate-limit header
 * feedback are hooks. `begin` is called before an attempt acquires; throwing refuses it.
 */
export interface AttemptHook {
  begin(): AttemptListener;
}

/** How one attempt went, as a hook hears it. Each member is called at most once. */
export interface AttemptListener {
  /** Every governor admitted the call; it is about to be sent. */
  admitted?(): void;
  /** The provider answered in full; `rateLimit` is what its headers said. */
  succeeded?(reply: { readonly rateLimit: RateLimitInfo | undefined }): void;
  /** The attempt failed; `aborted` when the caller's signal had aborted. */
  failed?(error: unknown, aborted: boolean): void;
  /** The attempt is over, whatever happened: called last. */
  ended?(): void;
}
