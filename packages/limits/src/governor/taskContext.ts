import { AsyncLocalStorage } from 'node:async_hooks';

/** What governors know of the task a call runs in. */
export interface TaskContext {
  /** Something was granted inside the task: it has work in progress. */
  started: boolean;
}

const tasks = new AsyncLocalStorage<TaskContext>();

/** Runs `fn` as a task: acquires made inside it (on any governor) see its context. */
export function runInTask<T>(fn: () => T): T {
  return tasks.run({ started: false }, fn);
}

/** The task the caller runs in, if any. */
export function currentTask(): TaskContext | undefined {
  return tasks.getStore();
}

/**
 * Whether reject mode may refuse an acquire made in `task`: new work (calls outside any
 * task, and a task's first acquire) is refused when a limit is hit; a task that already
 * has work in progress waits instead, bounded by its wait timeout, so that work is not
 * wasted.
 */
export function mayRefuse(task: TaskContext | undefined): boolean {
  return task?.started !== true;
}
