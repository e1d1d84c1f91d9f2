// The tool work of one admitted task: a scope made on the first tool call, ended with the task.
import { AbortError, type LinkedAbort, linkAbort } from '@tollgate/core';

/**
 * What an admitted task started besides its model calls: its tool executions and the scope
 * they run under. Both are made on the first tool call, so a task that only talks to the
 * model (the common case at scale) makes no abort scope and no set while it waits.
 */
export class TaskWork {
  readonly #signal: AbortSignal;
  #scope: LinkedAbort | undefined;
  #executions: Set<Promise<unknown>> | undefined;

  /** `signal` is the task's own: aborting it aborts the tools too. */
  constructor(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** The signal tool executions get: the task's, and aborted when the task ends. */
  get toolSignal(): AbortSignal {
    this.#scope ??= linkAbort(this.#signal);
    return this.#scope.signal;
  }

  /** Keeps `execution` until it settles, so the task can wait for it to stop. */
  track(execution: Promise<unknown>): void {
    this.#executions ??= new Set();
    const executions = this.#executions;
    executions.add(execution);
    execution.then(
      () => executions.delete(execution),
      () => executions.delete(execution),
    );
  }

  /** The task ended: aborts the tools still running; returns the executions to wait for. */
  end(): Promise<unknown>[] {
    this.#scope?.abort(new AbortError('The task ended'));
    return this.#executions ? [...this.#executions] : [];
  }
}
