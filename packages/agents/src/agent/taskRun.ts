// What one task accumulates while it runs, and the result it reports however it ends.
import {
  AbortError,
  DisposedError,
  EMPTY_USAGE,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TaskTimeoutError,
  type Usage,
} from '@tollgate/core';
import type { ChatMessage, ChatResponse } from '@tollgate/llm-clients';
import type { NormalizedTask, TaskResult, TaskStatus, ToolCallRecord } from './types.js';

/** Everything one task accumulates while it runs. */
export interface TaskRun {
  usage: Usage;
  llmCalls: number;
  iterations: number;
  cost: number;
  model: string;
  finishReason: ChatResponse['finishReason'] | undefined;
  admittedAt: number | undefined;
  messages: ChatMessage[];
  readonly tools: ToolCallRecord[];
}

/** A task run before its first call, on `model`. */
export function newTaskRun(model: string): TaskRun {
  return {
    usage: EMPTY_USAGE,
    llmCalls: 0,
    iterations: 0,
    cost: 0,
    model,
    finishReason: undefined,
    admittedAt: undefined,
    messages: [],
    tools: [],
  };
}

/** How a task ended, by what it threw. */
export function statusOf(error: unknown): TaskStatus {
  if (ResourceLimitExceededError.is(error) || ResourceWaitTimeoutError.is(error)) return 'rejected';
  if (TaskTimeoutError.is(error)) return 'timeout';
  if (AbortError.is(error) || DisposedError.is(error)) return 'aborted';
  return 'failed';
}

/** What ended a task, and when it started and ended. */
export interface TaskEnd<TOutput> {
  readonly agentId: string;
  readonly agentName: string;
  readonly task: NormalizedTask;
  readonly output: TOutput | undefined;
  /** `undefined` when the task completed. */
  readonly error: unknown;
  readonly startedAt: number;
  readonly endedAt: number;
}

/** The result of a task from its run and its end. */
export function taskResult<TOutput>(run: TaskRun, end: TaskEnd<TOutput>): TaskResult<TOutput> {
  const { error, startedAt, endedAt } = end;
  const status = error === undefined ? 'completed' : statusOf(error);
  return {
    taskId: end.task.id,
    agentId: end.agentId,
    agentName: end.agentName,
    status,
    ok: status === 'completed',
    output: end.output,
    ...(error === undefined ? {} : { error: error instanceof Error ? error : new Error(String(error)) }),
    usage: run.usage,
    llmCalls: run.llmCalls,
    toolCalls: run.tools.length,
    tools: [...run.tools],
    iterations: run.iterations,
    cost: run.cost,
    model: run.model,
    ...(run.finishReason === undefined ? {} : { finishReason: run.finishReason }),
    startedAt,
    queuedMs: (run.admittedAt ?? endedAt) - startedAt,
    durationMs: endedAt - startedAt,
    messages: [...run.messages],
  };
}
