// sleep: waiting on a clock, cut short by an abort signal.
import { abortReason } from '../errors/errors.js';
import type { Clock } from './Clock.js';

/**
 * Waits `ms` on `clock` (not at all when `ms <= 0`); rejects with the abort reason (an `AbortError`, or the Tollgate
 * error the signal was aborted with) as soon as `signal` aborts.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  if (ms <= 0) return Promise.resolve(); // no timer: a manual clock need not be advanced for it
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
