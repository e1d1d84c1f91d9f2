import {
  abortReason,
  type Clock,
  linkAbort,
  onAbort,
  TaskTimeoutError,
  type TimerHandle,
} from '@tollgate/core';
import type { GovernorLease } from './Governor.js';
import { runInTask } from './taskContext.js';

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
 * signal, and the lease is released however `fn` ends. `fn` runs as a task (see
 * `taskContext`): reject mode lets its later acquires wait. Shared by every governor's `runTask`.
 */
export async function runLeased<T, L extends GovernorLease>(
  lease: L,
  fn: (signal: AbortSignal, lease: L) => Promise<T> | T,
  options: RunLeasedOptions,
): Promise<T> {
  const { clock, taskTimeoutMs } = options;
  const scope = linkAbort(options.signal);
  let timer: TimerHandle | undefined;
  if (taskTimeoutMs !== undefined && Number.isFinite(taskTimeoutMs))
    timer = clock.setTimeout(() => {
      options.onTimeout(taskTimeoutMs);
      scope.abort(new TaskTimeoutError(taskTimeoutMs));
    }, taskTimeoutMs);
  try {
    return await new Promise<T>((resolve, reject) => {
      const unsubscribe = onAbort(scope.signal, () => reject(abortReason(scope.signal)));
      if (scope.signal.aborted) return;
      runInTask(() => Promise.resolve().then(() => fn(scope.signal, lease)))
        .then(resolve, reject)
        .finally(unsubscribe);
    });
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.unlink();
    lease.release();
  }
}
