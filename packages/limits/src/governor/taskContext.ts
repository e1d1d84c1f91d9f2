// The task a call runs in, carried across awaits by AsyncLocalStorage for every governor.
import { AsyncLocalStorage } from 'node:async_hooks';

/** What governors know of the task a call runs in. */
export interface TaskContext {
  /** Something was granted inside the task: it has work in progress. */
  started: boolean;
  /** Why the task ended early (its timeout or abort); its later acquires are refused with it. */
  ended?: unknown;
}

const tasks = new AsyncLocalStorage<TaskContext>();

/** Runs `fn` as the task `context`: acquires made inside it (on any governor) see it. */
export function runInTask<T>(fn: () => T, context: TaskContext = { started: false }): T {
  return tasks.run(context, fn);
}

/** The task the caller runs in, if any. */
export function currentTask(): TaskContext | undefined {
  return tasks.getStore();
}

/**
 * Throws why the caller's task ended, if it has: work a timed-out or aborted task goes on
 * running (it ignored its signal) gets nothing more from any governor.
 */
export function assertTaskRunning(task: TaskContext | undefined): void {
  if (task?.ended !== undefined) throw task.ended;
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
