// runLeased: a task run under a lease, its slot given back when it ends or its grace runs out.
import {
  abortReason,
  type Clock,
  type LinkedAbort,
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

/** The signal of a task nothing can abort (no caller signal, no timeout): shared, never aborted. */
const NEVER = new AbortController().signal;

/**
 * Runs `fn` under a lease already acquired: its signal aborts on the caller's signal or the
 * task timeout, and the returned promise settles at once on abort even if `fn` ignores its
 * signal. The lease is released when `fn` has ended, so work an aborted task still runs
 * keeps its slot until it stops, but for no longer than `stopGraceMs` after the abort: a
 * task that ignores its signal cannot hold a slot forever. `fn` runs as a task (see
 * `taskContext`): reject mode lets its later acquires wait. Shared by every governor's `runTask`.
 *
 * A task without a timeout gets the caller's signal itself (or a shared one that never
 * aborts): only a timeout needs a scope of its own, so most tasks make no `AbortController`.
 */
export function runLeased<T, L extends GovernorLease>(
  lease: L,
  fn: (signal: AbortSignal, lease: L) => Promise<T> | T,
  options: RunLeasedOptions,
): Promise<T> {
  return new LeasedRun<T, L>(lease, options).run(fn);
}

/** One task under its lease: its signal, its timers, and the release that ends it once. */
class LeasedRun<T, L extends GovernorLease> {
  readonly #lease: L;
  readonly #options: RunLeasedOptions;
  readonly #clock: Clock;
  readonly #scope: LinkedAbort | undefined;
  readonly #signal: AbortSignal;
  readonly #task: TaskContext = { started: false };
  #timer: TimerHandle | undefined;
  #grace: TimerHandle | undefined;
  #released = false;

  constructor(lease: L, options: RunLeasedOptions) {
    this.#lease = lease;
    this.#options = options;
    this.#clock = options.clock;
    const ms = options.taskTimeoutMs;
    if (ms !== undefined && Number.isFinite(ms)) {
      const scope = linkAbort(options.signal);
      this.#scope = scope;
      this.#timer = this.#clock.setTimeout(() => {
        options.onTimeout(ms);
        scope.abort(new TaskTimeoutError(ms));
      }, ms);
    }
    this.#signal = this.#scope?.signal ?? options.signal ?? NEVER;
  }

  run(fn: (signal: AbortSignal, lease: L) => Promise<T> | T): Promise<T> {
    const signal = this.#signal;
    const ran = signal.aborted
      ? Promise.resolve()
      : runInTask(() => Promise.resolve().then(() => fn(signal, this.#lease)), this.#task);
    // However `fn` ends, its lease goes back once it has (before its caller hears of it).
    ran.then(
      () => this.#release(),
      () => this.#release(),
    );
    return new Promise<T>((resolve, reject) => {
      const unsubscribe = onAbort(signal, () => this.#aborted(reject));
      if (signal.aborted) return;
      (ran as Promise<T>).then(resolve, reject).finally(unsubscribe);
    });
  }

  /** The task's signal aborted: its caller hears now; its slot waits for it to stop, within the grace. */
  #aborted(reject: (error: unknown) => void): void {
    this.#task.ended = abortReason(this.#signal);
    reject(this.#task.ended);
    if (this.#released) return;
    const graceMs = this.#options.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    this.#grace = this.#clock.setTimeout(() => {
      if (this.#released) return;
      this.#options.onStopOverdue?.(graceMs);
      this.#release();
    }, graceMs);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    if (this.#grace !== undefined) this.#clock.clearTimeout(this.#grace);
    this.#scope?.unlink();
    this.#lease.release();
  }
}
