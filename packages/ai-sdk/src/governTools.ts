// governTools: AI SDK tools whose every execution passes a governor (tool-call limits).
import { checkOptions, linkAbort, optionRules, rule } from '@tollgate/core';
import type { Governor, ResourceCost } from '@tollgate/limits';
import type { ToolSet } from 'ai';

/** Options of {@link governTools}. */
export interface GovernToolsOptions {
  /** What one execution costs. @default { toolCalls: 1 } */
  readonly cost?: ResourceCost | undefined;
  /**
   * The task's signal: an execution waiting for the governor, or running, is aborted when
   * it aborts, as when the call's own `abortSignal` does. @default none
   */
  readonly signal?: AbortSignal | undefined;
  /** The `label` of the acquires, so the governor's events say whose tool calls they are. */
  readonly label?: string | undefined;
}

type Execute = NonNullable<ToolSet[string]['execute']>;
type ExecuteOptions = Parameters<Execute>[1];

/** Whether `fn` is an `async function*`: a streaming tool, whose outputs are read one by one. */
const isAsyncGeneratorFunction = (fn: unknown) =>
  Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';

/**
 * The same tools, each execution of which first acquires `{ toolCalls: 1 }` on `governor`
 * (waiting, or refused, as its mode says), with the call's abort signal joined to the
 * task's. The lease is released when the execution ends (a streaming tool, written as an
 * `async function*`, when its last output is read). A refused execution throws the governor's error, which the AI
 * SDK reports to the model as that tool call's error. Tools without `execute` (answered
 * by the client) are returned as they are.
 *
 * @example
 * const tools = governTools({ search, fetchPage }, agentGovernor);
 * await generateText({ model, tools, prompt, stopWhen: stepCountIs(5) });
 *
 * @throws InvalidArgumentError for a `governor` that is not one or an option out of range.
 */
export function governTools<T extends ToolSet>(
  tools: T,
  governor: Governor,
  options: GovernToolsOptions = {},
): T {
  checkOptions(
    'governTools',
    { governor, ...options },
    {
      governor: rule('a governor', (v) => typeof (v as Governor | null)?.acquire === 'function'),
      cost: rule('a resource cost object', (v) => typeof v === 'object' && v !== null),
      signal: rule('an AbortSignal', (v) => v instanceof AbortSignal),
      label: optionRules.string,
    },
  );
  const cost = options.cost ?? { toolCalls: 1 };
  const acquire = (signal: AbortSignal) => governor.acquire(cost, { signal, label: options.label });
  const governed = (execute: Execute): Execute => {
    if (isAsyncGeneratorFunction(execute)) {
      // A streaming tool must stay an async iterable for the SDK to read its outputs.
      return async function* governedStreamingExecute(this: unknown, input: never, call: ExecuteOptions) {
        const scope = linkAbort(options.signal, call?.abortSignal);
        try {
          const lease = await acquire(scope.signal);
          try {
            yield* execute.call(this, input, {
              ...call,
              abortSignal: scope.signal,
            }) as AsyncIterable<unknown>;
          } finally {
            lease.release();
          }
        } finally {
          scope.unlink();
        }
      } as Execute;
    }
    return async function governedExecute(this: unknown, input: never, call: ExecuteOptions) {
      const scope = linkAbort(options.signal, call?.abortSignal);
      try {
        const lease = await acquire(scope.signal);
        try {
          return await execute.call(this, input, { ...call, abortSignal: scope.signal });
        } finally {
          lease.release();
        }
      } finally {
        scope.unlink();
      }
    } as Execute;
  };
  return Object.fromEntries(
    Object.entries(tools).map(([name, t]) => [name, t.execute ? { ...t, execute: governed(t.execute) } : t]),
  ) as T;
}
