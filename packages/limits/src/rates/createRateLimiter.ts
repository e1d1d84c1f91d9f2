// The rate limiter for a rate's configured algorithm.
import type { ResolvedRate } from '../config/ResourceLimits.js';
import type { RateLimiter } from './RateLimiter.js';
import { SlidingWindow } from './SlidingWindow.js';
import { TokenBucket } from './TokenBucket.js';

/** The limiter for `rate`'s algorithm, starting with full capacity at `now`. */
export function createRateLimiter(rate: ResolvedRate, now: number): RateLimiter {
  return rate.algorithm === 'sliding-window' ? new SlidingWindow(rate) : new TokenBucket(rate, now);
}
