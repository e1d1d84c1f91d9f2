// Wall-clock time in ms with sub-millisecond precision, for span timestamps.
import { performance } from 'node:perf_hooks';

/** Milliseconds since the epoch, from the monotonic clock (spans need wall time, Tollgate's clock may be manual). */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
