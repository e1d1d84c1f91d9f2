// Waiting on a clock, at most so long, for a set of promises to settle.
import type { Clock, TimerHandle } from '@tollgate/core';

/**
 * Resolves `true` once every promise of `work` has settled, or `false` after `ms` on `clock`
 * if some have not. Arms no timer when there is nothing to wait for.
 */
export async function settleWithin(
  work: readonly Promise<unknown>[],
  ms: number,
  clock: Clock,
): Promise<boolean> {
  if (work.length === 0) return true;
  let timer: TimerHandle | undefined;
  try {
    return await Promise.race([
      Promise.allSettled(work).then(() => true),
      new Promise<boolean>((resolve) => {
        timer = clock.setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
  }
}
