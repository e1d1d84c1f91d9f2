import { abortReason, type Clock, linkAbort, TaskTimeoutError, type TimerHandle } from '@tollgate/core';
import type { GovernorLease } from './Governor.js';

export interface RunLeasedOptions {
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly taskTimeoutMs: number | undefined;
  /** Called when the task timeout fires, before the task's signal aborts. */
  readonly onTimeout: (ms: number) => void;
}

/**
 * Runs `fn` under a lease already acquired: its signal aborts on the caller's signal or the
 * task timeout, the returned promise settles at once on abort even if `fn` ignores its
 * signal, and the lease is released however `fn` ends. Shared by every governor's `runTask`.
 */
export async function runLeased<T, L extends GovernorLease>(
  lease: L,
  fn: (signal: AbortSignal, lease: L) => Promise<T> | T,
  options: RunLeasedOptions,
): Promise<T> {
  const { clock, taskTimeoutMs } = options;
  const scope = linkAbort(options.signal);
  let timer: TimerHandle | undefined;
  if (taskTimeoutMs !== undefined)
    timer = clock.setTimeout(() => {
      options.onTimeout(taskTimeoutMs);
      scope.abort(new TaskTimeoutError(taskTimeoutMs));
    }, taskTimeoutMs);
  try {
    return await new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortReason(scope.signal));
      if (scope.signal.aborted) return onAbort();
      scope.signal.addEventListener('abort', onAbort, { once: true });
      Promise.resolve()
        .then(() => fn(scope.signal, lease))
        .then(resolve, reject)
        .finally(() => scope.signal.removeEventListener('abort', onAbort));
    });
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.unlink();
    lease.release();
  }
}
