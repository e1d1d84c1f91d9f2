import { abortReason, type Clock, linkAbort, type TimerHandle, TollgateError } from '@tollgate/core';
import type { ToolCall } from '@tollgate/llm-clients';
import {
  InvalidToolArgumentsError,
  ToolExecutionError,
  ToolTimeoutError,
  UnknownToolError,
} from '../errors.js';
import type { Tool } from './defineTool.js';
import type { ToolRegistry } from './ToolRegistry.js';

/** How one tool call went. `content` is what the model is told. */
export interface ToolOutcome {
  readonly callId: string;
  readonly name: string;
  readonly ok: boolean;
  /** The tool's result (when `ok`). */
  readonly result?: unknown;
  /** The message sent back to the model: the result, or the error. */
  readonly content: string;
  /** Why it failed (when not `ok`): invalid arguments, unknown tool, timeout or the tool's own error. */
  readonly error?: TollgateError;
  readonly startedAt: number;
  readonly durationMs: number;
}

export interface RunToolOptions {
  /** The task's signal: when it aborts the task is over, so this rejects with its reason. */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly timeoutMs: number;
  readonly agentId: string;
  readonly taskId: string;
  /**
   * Called once the call is known to be valid, right before the tool runs (the agent acquires
   * its `toolCalls` here, so malformed calls cost nothing). What it returns is called after.
   */
  readonly admit?: (() => Promise<(() => void) | undefined>) | undefined;
}

/**
 * Runs one tool call the model asked for. Failures the model can act on (unknown tool,
 * malformed or invalid arguments, a tool that threw or timed out) come back as a failed
 * outcome whose `content` tells the model what went wrong; only the end of the task
 * itself (its signal) rejects.
 */
export async function runTool(
  registry: ToolRegistry,
  call: ToolCall,
  options: RunToolOptions,
): Promise<ToolOutcome> {
  const { clock, signal } = options;
  let startedAt = clock.now();
  const done = (
    fields: { ok: true; result: unknown } | { ok: false; error: TollgateError },
  ): ToolOutcome => ({
    callId: call.id,
    name: call.name,
    ...fields,
    content: fields.ok ? toContent(fields.result) : `Error: ${fields.error.message}`,
    startedAt,
    durationMs: clock.now() - startedAt,
  });
  if (signal.aborted) throw abortReason(signal);
  const tool = registry.get(call.name);
  if (!tool) return done({ ok: false, error: new UnknownToolError(call.name, registry.names) });
  const args = parseArguments(tool, call.arguments);
  if (args instanceof InvalidToolArgumentsError) return done({ ok: false, error: args });

  const release = await options.admit?.();
  startedAt = clock.now();
  const timeoutMs = tool.timeoutMs ?? options.timeoutMs;
  const scope = linkAbort(signal);
  let timer: TimerHandle | undefined;
  try {
    const outcome = await new Promise<{ ok: true; result: unknown } | { ok: false; error: TollgateError }>(
      (resolve, reject) => {
        scope.signal.addEventListener(
          'abort',
          () =>
            signal.aborted ? reject(abortReason(signal)) : resolve({ ok: false, error: scope.signal.reason }),
          { once: true },
        );
        timer = clock.setTimeout(() => scope.abort(new ToolTimeoutError(tool.name, timeoutMs)), timeoutMs);
        Promise.resolve()
          .then(() =>
            tool.execute(args.value, {
              signal: scope.signal,
              agentId: options.agentId,
              taskId: options.taskId,
              callId: call.id,
            }),
          )
          .then(
            (result) => resolve({ ok: true, result }),
            (error: unknown) =>
              resolve({
                ok: false,
                error: TollgateError.is(error) ? error : new ToolExecutionError(tool.name, error),
              }),
          );
      },
    );
    return done(outcome);
  } finally {
    if (timer !== undefined) clock.clearTimeout(timer);
    scope.unlink();
    release?.();
  }
}

function parseArguments(tool: Tool, raw: string): { value: unknown } | InvalidToolArgumentsError {
  let json: unknown;
  try {
    json = raw.trim() === '' ? {} : JSON.parse(raw);
  } catch (error) {
    return new InvalidToolArgumentsError(tool.name, [`not valid JSON (${(error as Error).message})`], error);
  }
  const parsed = tool.parameters.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  return new InvalidToolArgumentsError(
    tool.name,
    parsed.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(arguments)'}: ${i.message}`),
    parsed.error,
  );
}

function toContent(result: unknown): string {
  if (typeof result === 'string') return result;
  if (result === undefined) return 'null';
  try {
    return JSON.stringify(result);
  } catch {
    return String(result);
  }
}
