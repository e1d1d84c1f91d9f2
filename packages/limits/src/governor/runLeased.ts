// runLeased: a task run under a lease, its slot given back when it ends or its grace runs out.
import {
  abortReason,
  type Clock,
  linkAbort,
  onAbort,
  TaskTimeoutError,
  type TimerHandle,
} from '@tollgate/core';
import type { GovernorLease } from './Governor.js';
import { runInTask, type TaskContext } from './taskContext.js';

export interface RunLeasedOptions {
  readonly clock: Clock;
  readonly signal: AbortSignal | undefined;
  readonly taskTimeoutMs: number | undefined;
  /** Called when the task timeout fires, before the task's signal aborts. */
  readonly onTimeout: (ms: number) => void;
  /** How long an aborted `fn` may take to stop before its lease is released anyway. @default DEFAULT_STOP_GRACE_MS */
  readonly stopGraceMs?: number | undefined;
  /** Called when an aborted `fn` has not stopped within `stopGraceMs` (its lease is released now). */
  readonly onStopOverdue?: ((graceMs: number) => void) | undefined;
}

/** How long an aborted task may take to stop before its slot is given back anyway, ms. */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/**
 * Runs `fn` under a lease already acquired: its signal aborts on the caller's signal or the
 * task timeout, and the returned promise settles at once on abort even if `fn` ignores its
 * signal. The lease is released when `fn` has ended, so work an aborted task still runs
 * keeps its slot until it stops, but for no longer than `stopGraceMs` after the abort: a
 * task that ignores its signal cannot hold a slot forever. `fn` runs as a task (see
 * `taskContext`): reject mode lets its later acquires wait. Shared by every governor's `runTask`.
 */
export async function runLeased<T, L extends GovernorLease>(
  lease: L,
  fn: (signal: AbortSignal, lease: L) => Promise<T> | T,
  options: RunLeasedOptions,
): Promise<T> {
  const { clock, taskTimeoutMs, stopGraceMs = DEFAULT_STOP_GRACE_MS } = options;
  const scope = linkAbort(options.signal);
  let timer: TimerHandle | undefined;
  if (taskTimeoutMs !== undefined && Number.isFinite(taskTimeoutMs))
    timer = clock.setTimeout(() => {
      options.onTimeout(taskTimeoutMs);
      scope.abort(new TaskTimeoutError(taskTimeoutMs));
    }, taskTimeoutMs);
  let grace: TimerHandle | undefined;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    if (timer !== undefined) clock.clearTimeout(timer);
    if (grace !== undefined) clock.clearTimeout(grace);
    scope.unlink();
    lease.release();
  };
  const task: TaskContext = { started: false };
  const ran = scope.signal.aborted
    ? Promise.resolve()
    : runInTask(() => Promise.resolve().then(() => fn(scope.signal, lease)), task);
  // However `fn` ends, its lease goes back once it has (before its caller hears of it).
  ran.then(release, release);
  return new Promise<T>((resolve, reject) => {
    const unsubscribe = onAbort(scope.signal, () => {
      task.ended = abortReason(scope.signal);
      reject(task.ended);
      if (released) return;
      grace = clock.setTimeout(() => {
        if (released) return;
        options.onStopOverdue?.(stopGraceMs);
        release();
      }, stopGraceMs);
    });
    if (scope.signal.aborted) return;
    (ran as Promise<T>).then(resolve, reject).finally(unsubscribe);
  });
}
